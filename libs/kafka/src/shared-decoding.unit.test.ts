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
  const [first, second] = sharedDecoding(2);
  const event = first!.decode(record, at(7));
  assert.equal(event.type, 'MessageAccepted');
  assert.equal(second!.decode(record, at(7)), event, 'the second reader gets the first decoding');
  const third = first!.decode(record, at(7));
  assert.notEqual(third, event, 'released once every reader had it');
  assert.deepEqual(third, event);
});

test('given a reader far behind, what was kept is dropped and it decodes for itself', () => {
  const [ahead, behind] = sharedDecoding(2, 3);
  const early = ahead!.decode(record, at(1));
  for (const offset of [2, 3, 4]) ahead!.decode(record, at(offset));
  const late = behind!.decode(record, at(1));
  assert.notEqual(late, early);
  assert.deepEqual(late, early);
  assert.equal(ahead!.decode(record, at(1)), late, 'and shares again from there');
});

test('given a record that breaks its contract, every reader rejects it', () => {
  const [first, second] = sharedDecoding(2);
  assert.throws(() => first!.decode(Buffer.from('{"not":"an event"}'), at(9)));
  assert.throws(() => second!.decode(Buffer.from('{"not":"an event"}'), at(9)));
});

test('a reader a quarter of the limit ahead of another waits until that one catches up, one that started or is close does not', async () => {
  const [ahead, behind] = sharedDecoding(2, 400);
  await ahead!.pace!('hearth.messages', 0, 0n, 300n); // the other has not read the partition: no wait
  await behind!.pace!('hearth.messages', 0, 0n, 1n);
  let waited = true;
  const paced = ahead!.pace!('hearth.messages', 0, 300n, 400n).then(() => (waited = false));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(waited, true, '299 records ahead of the other: waits');
  await behind!.pace!('hearth.messages', 0, 1n, 250n);
  await paced; // 50 ahead now
  const started = Date.now();
  await ahead!.pace!('hearth.messages', 1, 1_000n, 1_100n);
  assert.ok(Date.now() - started < 200, 'another partition the other has not read: no wait');
});

test('a reader ahead of one that stopped goes on after a short wait per batch', async () => {
  const [ahead, stopped] = sharedDecoding(2, 400);
  await stopped!.pace!('hearth.messages', 0, 0n, 1n);
  const started = Date.now();
  await ahead!.pace!('hearth.messages', 0, 1_000n, 1_100n);
  const waited = Date.now() - started;
  assert.ok(waited >= 200 && waited < 1_000, `waited ${waited} ms`);
});

test('a reader that has not read a partition lately (another instance has it since a rebalance) holds no one back there', async () => {
  const [ahead, moved] = sharedDecoding(2, 400, 50);
  await moved!.pace!('hearth.messages', 0, 0n, 1n);
  await new Promise((resolve) => setTimeout(resolve, 60));
  const started = Date.now();
  await ahead!.pace!('hearth.messages', 0, 1_000n, 1_100n);
  assert.ok(Date.now() - started < 200, 'no wait');
});

test('one reader decodes for itself, with nothing to wait for', () => {
  const [only] = sharedDecoding(1);
  assert.equal(only!.pace, undefined);
  assert.equal(only!.decode(record, at(0)).type, 'MessageAccepted');
});
