import { advanceConversation, type ConversationTracker } from './conversations';
import { preferencesAt, shouldArchive, type ArchivePreferences } from './archiving-policy';

/** What a MessageAccepted carries that the archive needs (a subset of its payload). */
export interface AcceptedMessage {
  stanzaId: string;
  sender: string;
  senderFullJid: string;
  recipient: string;
  to: string;
  stanza: string;
  acceptedAt: string;
}

/** One copy of a message in one user's archive. */
export interface ArchiveCopy {
  owner: string;
  peer: string;
  /** trackerKey(owner, peer), once per copy: the key of its chat in every map of a batch. */
  chat: string;
  peerJid: string;
  outgoing: boolean;
  stanzaId: string;
  stanza: string;
  acceptedAt: number;
  /** acceptedAt as the event carries it (ISO 8601), for SQL: formatting it again costs per row. */
  acceptedAtIso: string;
}

export interface ArchiveRow extends ArchiveCopy {
  seq: bigint;
  conversationId: string;
}

/** The state of the owners touched by a batch, loaded (and locked) before planning. */
export interface IngestState {
  owners: Map<string, { lastSeq: bigint; deletedBefore?: number }>;
  /** ArchiveRetentionApplied: nothing accepted before it is archived. */
  retentionBefore?: number;
  /** Preference histories by owner, sorted by effectiveAt. */
  preferences: Map<string, ArchivePreferences[]>;
  /** Current conversation per chat, keyed by trackerKey(owner, peer). */
  trackers: Map<string, ConversationTracker>;
}

export interface IngestPlan {
  /** In consumption order: each owner's positions rise along the list. */
  rows: ArchiveRow[];
  lastSeq: Map<string, bigint>;
  trackers: Map<string, ConversationTracker>;
}

export const trackerKey = (owner: string, peer: string): string => `${owner}\n${peer}`;

/**
 * The messages' copies in the archives of the owners `owns` accepts (a shard's), in order: the
 * sender's copy, then the recipient's (one copy for a message to oneself).
 */
export function copiesOf(messages: readonly AcceptedMessage[], owns: (owner: string) => boolean = () => true): ArchiveCopy[] {
  const copies: ArchiveCopy[] = [];
  for (const message of messages) {
    const outgoing = message.sender !== message.recipient && owns(message.sender);
    const incoming = owns(message.recipient);
    if (!outgoing && !incoming) continue;
    const acceptedAt = Date.parse(message.acceptedAt);
    if (outgoing) copies.push(copyOf(message, message.sender, message.recipient, message.to, true, acceptedAt));
    if (incoming) copies.push(copyOf(message, message.recipient, message.sender, message.senderFullJid, false, acceptedAt));
  }
  return copies;
}

function copyOf(message: AcceptedMessage, owner: string, peer: string, peerJid: string, outgoing: boolean, acceptedAt: number): ArchiveCopy {
  return {
    owner, peer, chat: trackerKey(owner, peer), peerJid, outgoing,
    stanzaId: message.stanzaId, stanza: message.stanza, acceptedAt, acceptedAtIso: message.acceptedAt,
  };
}

/**
 * Assigns each copy its position in its owner's archive, in consumption order: the per-user
 * sequence that makes "everything after id X" gapless whatever the gateways' clocks say.
 *
 * Every copy takes a position and advances its chat's conversation, archived or not: what is
 * skipped (preferences, retention horizon, deleted account) then never shifts later positions or
 * conversation boundaries, so a rebuild that skips a message the live projection archived and
 * later deleted still gives the same rows.
 */
export function planIngest(copies: readonly ArchiveCopy[], state: IngestState, conversationGapMs: number): IngestPlan {
  const lastSeq = new Map<string, bigint>();
  const trackers = new Map<string, ConversationTracker>();
  const rows: ArchiveRow[] = [];
  for (const copy of copies) {
    const owner = state.owners.get(copy.owner);
    const seq = (lastSeq.get(copy.owner) ?? owner?.lastSeq ?? 0n) + 1n;
    lastSeq.set(copy.owner, seq);
    const tracker = advanceConversation(trackers.get(copy.chat) ?? state.trackers.get(copy.chat), copy, conversationGapMs);
    trackers.set(copy.chat, tracker);
    if (owner?.deletedBefore !== undefined && copy.acceptedAt <= owner.deletedBefore) continue;
    if (state.retentionBefore !== undefined && copy.acceptedAt < state.retentionBefore) continue;
    if (!shouldArchive(preferencesAt(state.preferences.get(copy.owner) ?? [], copy.acceptedAt), copy.peer)) continue;
    rows.push({ ...copy, seq, conversationId: tracker.conversationId });
  }
  return { rows, lastSeq, trackers };
}
