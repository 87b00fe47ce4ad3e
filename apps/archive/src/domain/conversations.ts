/**
 * Conversations: the messages of one chat form a conversation while the gap between consecutive
 * messages stays under the conversation gap (HEARTH_ARCHIVE_CONVERSATION_GAP_MINUTES). Boundaries
 * come from the messages' acceptedAt (event data), in archive order, so they are deterministic.
 */
export interface ConversationTracker {
  /** The stanza id of the message that opened the current conversation. */
  conversationId: string;
  /** The latest acceptedAt seen in it (ms). Gateway clocks differ, so it only moves forward. */
  lastAt: number;
}

export function advanceConversation(
  tracker: ConversationTracker | undefined,
  message: { stanzaId: string; acceptedAt: number },
  gapMs: number,
): ConversationTracker {
  if (tracker && message.acceptedAt - tracker.lastAt < gapMs) {
    return { conversationId: tracker.conversationId, lastAt: Math.max(tracker.lastAt, message.acceptedAt) };
  }
  return { conversationId: message.stanzaId, lastAt: message.acceptedAt };
}
