import { z } from 'zod';
import { defineEvent } from '../registry';
import { topics } from '../topics';
import { bareJid, stanzaId } from './fields';

/**
 * A message's place in its chat's archive order: the offset of its `MessageAccepted` in the
 * chat's partition of `hearth.messages` (one chat = one partition = one order). Only comparable
 * within one chat.
 */
export const archivePosition = z.number().int().nonnegative();

/**
 * The user has seen everything up to `stanzaId` in the chat with `peer`. Appended by read-state
 * only after checking that the message is in that chat and ahead of the current pointer; applied
 * as "the furthest position wins", so pointers only move forward even when two devices race.
 */
export const ReadPointerMoved = defineEvent('ReadPointerMoved', 1, topics.readState, z.object({
  user: bareJid,
  peer: bareJid,
  stanzaId,
  /** Where `stanzaId` is in the chat, so the move applies without the message (e.g. during a rebuild). */
  position: archivePosition,
  /** What moved it: a XEP-0333 marker, a XEP-0490 MDS publish, or the product backend over HTTP. */
  movedBy: z.enum(['displayed-marker', 'mds', 'http']),
}));

/**
 * A user's unread count or read pointer of one chat changed (an incoming message arrived, or
 * the pointer moved). Carries the state after the change: the chat's count and pointer and the
 * user's total (the push badge), so a consumer needs only the latest one per user and chat.
 * Its id is derived from the causing event's id (`causationId`) and the user, so a consumer
 * dedupes a re-emission after a crash by id.
 */
export const UnreadChanged = defineEvent('UnreadChanged', 1, topics.readState, z.object({
  user: bareJid,
  peer: bareJid,
  unread: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** The chat's read pointer after the change (XEP-0359 stanza id), absent if never moved. */
  pointer: stanzaId.optional(),
  reason: z.enum(['message-arrived', 'pointer-moved']),
}));
