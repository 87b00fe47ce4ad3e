import { z } from 'zod';
import { defineEvent, type PayloadOf } from '../registry';
import { topics } from '../topics';
import { anyJid, bareJid, fullJid, stanzaId, timestamp } from './fields';

/**
 * A message the server accepted: it is in the log before anyone is told. `stanza` is the whole
 * stanza as delivered (with `from` rewritten and the XEP-0359 stanza-id added), so every copy
 * anyone receives, live or from the archive, is the same.
 */
export const MessageAccepted = defineEvent('MessageAccepted', 1, topics.messages, z.object({
  stanzaId,
  chatKey: z.string().min(1),
  sender: bareJid,
  senderFullJid: fullJid,
  recipient: bareJid,
  /** The `to` as addressed: a bare JID, or a full JID for one resource. */
  to: anyJid,
  messageType: z.enum(['chat', 'normal', 'headline']),
  /** XEP-0359 origin-id, or the stanza's `id` attribute: the sender's dedupe key. */
  clientMessageId: z.string().max(256).optional(),
  body: z.string().optional(),
  stanza: z.string().min(1),
  acceptedAt: timestamp,
  gateway: z.string().min(1),
}));

/**
 * Whether an accepted message counts as unread for its recipient: a chat or normal message with a
 * body from someone else. Chat states, receipts and markers (no body) and headlines do not. The
 * one definition: read-state counts these as unread, push notifies about these and raises the badge.
 */
export function isCountable(message: PayloadOf<typeof MessageAccepted>): boolean {
  return message.messageType !== 'headline' && (message.body ?? '').trim() !== '' && message.sender !== message.recipient;
}
