import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advanceConversation, type ConversationTracker } from './conversations';

const GAP = 15 * 60_000;
const at = (minutes: number) => ({ stanzaId: `m${minutes}`, acceptedAt: minutes * 60_000 });

test('given messages at 0, 5, 14 and 40 minutes, when tracked, then they form two conversations', () => {
  let tracker: ConversationTracker | undefined;
  const ids = [0, 5, 14, 40].map((m) => (tracker = advanceConversation(tracker, at(m), GAP)).conversationId);
  assert.deepEqual(ids, ['m0', 'm0', 'm0', 'm40']);
});

test('given a gap of exactly the limit, when the next message comes, then it opens a new conversation', () => {
  const tracker = advanceConversation(undefined, at(0), GAP);
  assert.equal(advanceConversation(tracker, at(15), GAP).conversationId, 'm15');
});

test('given a message stamped earlier by a gateway with a slow clock, when tracked, then the conversation end does not move back', () => {
  const tracker = advanceConversation(advanceConversation(undefined, at(10), GAP), at(9), GAP);
  assert.deepEqual(tracker, { conversationId: 'm10', lastAt: 10 * 60_000 });
});
