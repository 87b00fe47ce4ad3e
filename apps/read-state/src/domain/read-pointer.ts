import { createHash } from 'node:crypto';
import { chatKeyOf, type PayloadOf, type ReadPointerMoved } from '@hearth/contracts';
import { ReadStateError } from './read-state.errors';

/**
 * The read pointer of one user in one 1:1 chat: the last message the user has seen, as a
 * position in the chat's archive order (the order of MessageAccepted in the chat's partition).
 * Unread = the user's incoming countable messages after it. Pure: no I/O.
 */
export type MovedBy = PayloadOf<typeof ReadPointerMoved>['movedBy'];

export interface MoveReadPointer {
  user: string;
  peer: string;
  /** XEP-0359 stanza id of the last displayed message (MDS, HTTP, markers that carry it). */
  stanzaId?: string;
  /** Or the peer's own id for it (XEP-0333 `id`: the origin-id or stanza `id` the sender gave). */
  messageId?: string;
  movedBy: MovedBy;
}

/** A message read-state knows in the command's chat. */
export interface KnownMessage {
  stanzaId: string;
  position: number;
}

/** The pointer as it is now; position -1 = never moved. */
export interface PointerState {
  position: number;
  stanzaId?: string;
}

export type MoveDecision =
  | { kind: 'unchanged'; pointer: PointerState }
  | { kind: 'moved'; event: PayloadOf<typeof ReadPointerMoved> };

const BARE_JID = /^[^@/\s]+@[^@/\s]+$/;
const MOVED_BY: readonly MovedBy[] = ['displayed-marker', 'mds', 'http'];

/** Checks a command's shape before any lookup; returns its chat key. */
export function validateMove(command: MoveReadPointer): string {
  for (const [field, jid] of [['user', command.user], ['peer', command.peer]] as const) {
    if (!BARE_JID.test(jid)) throw new ReadStateError('jid-malformed', `${field} must be a bare JID, got ${JSON.stringify(jid)}`);
  }
  if (command.user === command.peer) throw new ReadStateError('bad-request', 'a chat needs two different users');
  if (!command.stanzaId && !command.messageId) throw new ReadStateError('bad-request', 'name the message: stanza_id or message_id');
  if (!MOVED_BY.includes(command.movedBy)) throw new ReadStateError('bad-request', `moved_by must be one of ${MOVED_BY.join(', ')}`);
  return chatKeyOf(command.user, command.peer);
}

/**
 * decide(command, state): a message of the chat ahead of the pointer moves it (one event); one
 * at or behind it changes nothing; one that is not in the chat is refused.
 */
export function decideMove(command: MoveReadPointer, target: KnownMessage | undefined, pointer: PointerState): MoveDecision {
  if (!target) {
    const named = command.stanzaId ? `stanza id ${command.stanzaId}` : `message id ${command.messageId}`;
    throw new ReadStateError('item-not-found', `${named} is not a message of the chat between ${command.user} and ${command.peer}`);
  }
  if (target.position <= pointer.position) return { kind: 'unchanged', pointer };
  return {
    kind: 'moved',
    event: { user: command.user, peer: command.peer, stanzaId: target.stanzaId, position: target.position, movedBy: command.movedBy },
  };
}

/** What read-state knows of a chat when it decides a move (one query). */
export interface ChatState {
  pointer: PointerState;
  unread: number;
  /** The user's total over all chats. */
  total: number;
  /** The user's incoming countable messages after the target message (only when the target is ahead of the pointer). */
  unreadAfterTarget?: number;
}

export interface MoveOutcome {
  moved: boolean;
  pointer?: string;
  unread: number;
  total: number;
}

/**
 * The reply to a move, from the decision itself rather than from the projection after it: the
 * projection applies a move with the same arithmetic (unread = incoming countable messages
 * after the new pointer, the total moves by the difference), so the reply equals what it will
 * write unless another change of the chat lands in between.
 */
export function outcomeOf(decision: MoveDecision, state: ChatState): MoveOutcome {
  if (decision.kind === 'unchanged') {
    return { moved: false, unread: state.unread, total: state.total, ...(state.pointer.stanzaId ? { pointer: state.pointer.stanzaId } : {}) };
  }
  const unread = state.unreadAfterTarget ?? 0;
  return { moved: true, pointer: decision.event.stanzaId, unread, total: state.total - state.unread + unread };
}

/**
 * The id of the UnreadChanged caused by one event for one user: a name-based UUID (RFC 9562
 * §5.5, v5 layout) of the two, so re-emitting after a crash yields the same id and consumers
 * dedupe it.
 */
export function unreadChangedId(causingEventId: string, user: string): string {
  const hash = createHash('sha1').update(`UnreadChanged ${causingEventId} ${user}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
