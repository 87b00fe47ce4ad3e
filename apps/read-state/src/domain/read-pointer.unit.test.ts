import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent, UnreadChanged } from '@hearth/contracts';
import { decideMove, outcomeOf, unreadChangedId, validateMove, type MoveReadPointer } from './read-pointer';
import { ReadStateError } from './read-state.errors';

const marker = (over: Partial<MoveReadPointer> = {}): MoveReadPointer =>
  ({ user: 'bob@localhost', peer: 'alice@localhost', stanzaId: 's-5', movedBy: 'displayed-marker', ...over });
const condition = (c: string) => (error: unknown) => error instanceof ReadStateError && error.condition === c;

test('given a pointer at 3, when bob displays the message at 5, then the pointer moves to it', () => {
  const decision = decideMove(marker(), { stanzaId: 's-5', position: 5 }, { position: 3, stanzaId: 's-3' });
  assert.deepEqual(decision, {
    kind: 'moved',
    event: { user: 'bob@localhost', peer: 'alice@localhost', stanzaId: 's-5', position: 5, movedBy: 'displayed-marker' },
  });
});

test('given a pointer never moved, when any message of the chat is displayed, then it moves', () => {
  assert.equal(decideMove(marker(), { stanzaId: 's-0', position: 0 }, { position: -1 }).kind, 'moved');
});

test('given a pointer at 5, when an older or the same message is displayed, then nothing changes', () => {
  for (const position of [2, 5]) {
    assert.deepEqual(decideMove(marker(), { stanzaId: 'x', position }, { position: 5, stanzaId: 's-5' }),
      { kind: 'unchanged', pointer: { position: 5, stanzaId: 's-5' } });
  }
});

test('when a marker names a message that is not in the chat, then it is refused with item-not-found', () => {
  assert.throws(() => decideMove(marker({ stanzaId: 'other-chat' }), undefined, { position: -1 }), condition('item-not-found'));
});

test('a command with a malformed JID, the same user twice or no message is refused before any lookup', () => {
  assert.throws(() => validateMove(marker({ peer: 'alice@localhost/phone' })), condition('jid-malformed'));
  assert.throws(() => validateMove(marker({ peer: 'bob@localhost' })), condition('bad-request'));
  assert.throws(() => validateMove(marker({ stanzaId: undefined })), condition('bad-request'));
  assert.equal(validateMove(marker()), 'alice@localhost bob@localhost');
  assert.equal(validateMove(marker({ stanzaId: undefined, messageId: 'origin-1' })), 'alice@localhost bob@localhost');
});

test('the UnreadChanged id is a valid UUID derived from the causing event and the user', () => {
  const a = unreadChangedId('00000000-0000-4000-8000-000000000001', 'bob@localhost');
  assert.equal(a, unreadChangedId('00000000-0000-4000-8000-000000000001', 'bob@localhost'));
  assert.notEqual(a, unreadChangedId('00000000-0000-4000-8000-000000000001', 'carol@localhost'));
  assert.notEqual(a, unreadChangedId('00000000-0000-4000-8000-000000000002', 'bob@localhost'));
  const event = createEvent(UnreadChanged, { user: 'bob@localhost', peer: 'alice@localhost', unread: 1, total: 1, reason: 'message-arrived' },
    { key: 'bob@localhost', producer: 'test', id: a });
  assert.equal(event.id, a);
});

test('given 3 unread of 7 in total, when bob displays a message with 1 unread after it, then the reply says 1 and 5', () => {
  const state = { pointer: { position: 3, stanzaId: 's-3' }, unread: 3, total: 7, unreadAfterTarget: 1 };
  const decision = decideMove(marker(), { stanzaId: 's-5', position: 5 }, state.pointer);
  assert.deepEqual(outcomeOf(decision, state), { moved: true, pointer: 's-5', unread: 1, total: 5 });
});

test('given a pointer at 5, when an older message is displayed, then the reply carries the counts as they are', () => {
  const state = { pointer: { position: 5, stanzaId: 's-5' }, unread: 2, total: 4 };
  assert.deepEqual(outcomeOf(decideMove(marker(), { stanzaId: 's-2', position: 2 }, state.pointer), state),
    { moved: false, pointer: 's-5', unread: 2, total: 4 });
});
