import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ContractViolation, createEvent, decodeEvent, defineEvent, encodeEvent, isCountable, MessageAccepted, registeredEvents, type PayloadOf,
} from '../src';

// Fixtures are read from the source tree: they are the published shapes, not build output.
const fixtures = join(__dirname, '../../test/fixtures');

test('every published event version has a golden fixture that still decodes', () => {
  const files = new Set(readdirSync(fixtures));
  for (const { type, version } of registeredEvents()) {
    const file = `${type}.v${version}.json`;
    assert.ok(files.has(file), `missing golden fixture ${file}`);
    const event = decodeEvent(readFileSync(join(fixtures, file)));
    assert.equal(event.type, type);
    assert.deepEqual(decodeEvent(encodeEvent(event)), event, `${file} survives a round trip`);
  }
});

test('a payload that breaks its schema is refused at produce, naming the field', () => {
  assert.throws(
    () => createEvent(MessageAccepted, { stanzaId: 'x' } as never, { key: 'k', producer: 'test' }),
    (error: unknown) => error instanceof ContractViolation && /MessageAccepted: \w+/.test(error.message),
  );
});

test('a record that is not an event is refused at consume with a reason', () => {
  assert.throws(() => decodeEvent(Buffer.from('not json')), /not JSON/);
  assert.throws(() => decodeEvent(Buffer.from('{"type":"X"}')), /envelope/);
  const unknown = { ...JSON.parse(readFileSync(join(fixtures, 'AccountCreated.v1.json'), 'utf8')), type: 'NoSuchEvent' };
  assert.throws(() => decodeEvent(JSON.stringify(unknown)), /unknown event type/);
  const tampered = JSON.parse(readFileSync(join(fixtures, 'AccountCreated.v1.json'), 'utf8'));
  tampered.payload.account = 'no-at-sign';
  assert.throws(() => decodeEvent(JSON.stringify(tampered)), /account: must be a bare JID/);
});

test('an old version is upcast on read, so consumers only see the latest', () => {
  const v1 = defineEvent('TestGreeted', 1, 'test', z.object({ name: z.string() }));
  defineEvent('TestGreeted', 2, 'test', z.object({ name: z.string(), formal: z.boolean() }),
    (old) => ({ ...(old as { name: string }), formal: false }));
  const old = { ...createEventUnchecked(v1.type, 1, { name: 'alice' }) };
  const read = decodeEvent(JSON.stringify(old));
  assert.equal(read.version, 2);
  assert.deepEqual(read.payload, { name: 'alice', formal: false });
  assert.throws(() => createEvent(v1, { name: 'bob' }, { key: 'k', producer: 'test' }), /only the latest version/);
});

function createEventUnchecked(type: string, version: number, payload: unknown) {
  return { id: '00000000-0000-4000-8000-000000000001', type, version, occurredAt: new Date().toISOString(), key: 'k', producer: 'test', payload };
}

const accepted = (over: Partial<PayloadOf<typeof MessageAccepted>>): PayloadOf<typeof MessageAccepted> => ({
  stanzaId: 's', chatKey: 'alice@localhost bob@localhost', sender: 'alice@localhost', senderFullJid: 'alice@localhost/web',
  recipient: 'bob@localhost', to: 'bob@localhost', messageType: 'chat', body: 'hi', stanza: '<message/>',
  acceptedAt: '2026-11-24T12:00:00.000Z', gateway: 'gw', ...over,
});

test('only messages with a body from someone else count as unread; markers, chat states, headlines and notes to oneself do not', () => {
  assert.equal(isCountable(accepted({})), true);
  assert.equal(isCountable(accepted({ messageType: 'normal' })), true);
  assert.equal(isCountable(accepted({ body: undefined })), false);
  assert.equal(isCountable(accepted({ body: '  ' })), false);
  assert.equal(isCountable(accepted({ messageType: 'headline' })), false);
  assert.equal(isCountable(accepted({ recipient: 'alice@localhost' })), false);
});
