import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent, encodeEvent, MessageAccepted, type PayloadOf } from '@hearth/contracts';
import { sharedDecoding } from './shared-decoding';

const payload: PayloadOf<typeof MessageAccepted> = {
  stanzaId: 'sid-1', chatKey: 'a@localhost|b@localhost', sender: 'a@localhost', senderFullJid: 'a@localhost/phone', recipient: 'b@localhost',
  to: 'b@localhost', messageType: 'chat', body: 'hi', stanza: "<message xmlns='jabber:client'><body>hi</body></message>", acceptedAt: new Date(0).toISOString(), gateway: 'gw',
};
const record = encodeEvent(createEvent(MessageAccepted, payload, { key: payload.chatKey, producer: 'test' }));
const at = (offset: number) => ({ topic: 'hearth.messages', partition: 0, offset: String(offset) });

test('given two readers, each record is decoded once and both get the same event; a third read decodes again', () => {
  const decode = sharedDecoding(2);
  const first = decode(record, at(7));
  assert.equal(first.type, 'MessageAccepted');
  assert.equal(decode(record, at(7)), first, 'the second reader gets the first decoding');
  const third = decode(record, at(7));
  assert.notEqual(third, first, 'released once every reader had it');
  assert.deepEqual(third, first);
});

test('given a reader far behind, what was kept is dropped and it decodes for itself', () => {
  const decode = sharedDecoding(2, 3);
  const early = decode(record, at(1));
  for (const offset of [2, 3, 4]) decode(record, at(offset));
  const late = decode(record, at(1));
  assert.notEqual(late, early);
  assert.deepEqual(late, early);
  assert.equal(decode(record, at(1)), late, 'and shares again from there');
});

test('given a record that breaks its contract, every reader rejects it', () => {
  const decode = sharedDecoding(2);
  assert.throws(() => decode(Buffer.from('{"not":"an event"}'), at(9)));
  assert.throws(() => decode(Buffer.from('{"not":"an event"}'), at(9)));
});
