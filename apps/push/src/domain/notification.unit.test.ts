import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APNS_MAX_PAYLOAD_BYTES, apnsRequest, badgeContent, badgeFor, messageContent, truncate } from './notification';

const message = (body: string | undefined, stanza = "<message><body>x</body></message>") => ({
  stanzaId: 's1', chatKey: 'a@x b@x', sender: 'alice@localhost', senderFullJid: 'alice@localhost/web', recipient: 'bob@localhost',
  to: 'bob@localhost', messageType: 'chat' as const, ...(body === undefined ? {} : { body }), stanza, acceptedAt: '2026-11-24T12:00:00.000Z', gateway: 'g',
});

test('given a long text, when the content is built, then it is cut to the configured length with an ellipsis, never inside an emoji', () => {
  assert.equal(truncate('hello world', 5), 'hell…');
  assert.equal(truncate('😀😀😀', 2), '😀…');
  assert.equal(truncate('short', 40), 'short');
});

test('given HEARTH_PUSH_HIDE_BODY, the text never reaches the notification', () => {
  const content = messageContent(message('secret'), 'e1', { bodyMaxChars: 100, hideBody: true });
  assert.equal(content.body, 'New message');
  assert.equal(content.title, 'alice');
  assert.deepEqual(content.hearth, { kind: 'message', eventId: 'e1', stanzaId: 's1', sender: 'alice@localhost', chat: 'alice@localhost' });
});

test('given a XEP-0172 nick in the stanza, it is the title', () => {
  const content = messageContent(message('hi', "<message><body>hi</body><nick xmlns='http://jabber.org/protocol/nick'>Alice L.</nick></message>"), 'e', { bodyMaxChars: 9, hideBody: false });
  assert.equal(content.title, 'Alice L.');
});

test('a payload over 4096 bytes is shortened until it fits', () => {
  const content = messageContent(message('é'.repeat(5000)), 'e', { bodyMaxChars: 5000, hideBody: false });
  const request = apnsRequest(content, 1);
  assert.ok(Buffer.byteLength(JSON.stringify(request.payload)) <= APNS_MAX_PAYLOAD_BYTES);
  assert.ok(((request.payload.aps.alert as { body: string }).body).endsWith('…'));
});

test('a badge update carries only the badge, at priority 5, collapsing earlier ones', () => {
  assert.deepEqual(apnsRequest(badgeContent(), 2), { pushType: 'alert', priority: 5, collapseId: 'hearth-badge', payload: { aps: { badge: 2 } } });
});

test('the badge is read-state\'s total when known, else the last known total plus the message', () => {
  assert.equal(badgeFor({ badge: 7, countsAsUnread: true }, 3), 7);
  assert.equal(badgeFor({ badge: null, countsAsUnread: true }, 3), 4);
  assert.equal(badgeFor({ badge: null, countsAsUnread: false }, 3), 3);
});
