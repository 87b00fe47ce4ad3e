import { z } from 'zod';
import { defineEvent } from '../registry';
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
