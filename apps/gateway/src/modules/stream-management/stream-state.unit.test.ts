import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { xml } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import { H_MODULUS, parseH, StreamState } from './stream-state';

const message = (id: string) => xml('message', NS.client, { id });

describe('XEP-0198 stanza counting', () => {
  test('given three sent stanzas, when the client acknowledges h=2, then only the third stays unacknowledged', () => {
    const state = new StreamState('id', 300);
    for (const id of ['a', 'b', 'c']) state.sentStanza(message(id));
    assert.deepEqual(state.acknowledge(2)?.map((s) => s.attr('id')), ['a', 'b']);
    assert.deepEqual(state.unacked.map((s) => s.attr('id')), ['c']);
    assert.deepEqual(state.acknowledge(2), [], 'the same h again acknowledges nothing new');
  });

  test('given one sent stanza, when the client acknowledges h=2, then that is refused (handled-count-too-high)', () => {
    const state = new StreamState('id', 300);
    state.sentStanza(message('a'));
    assert.equal(state.acknowledge(2), null);
    assert.equal(state.unacked.length, 1);
  });

  test('counters wrap around at 2^32 (§4)', () => {
    const state = new StreamState('id', 0);
    (state as unknown as { acked: number }).acked = H_MODULUS - 1;
    state.sent = H_MODULUS - 1;
    state.sentStanza(message('a'));
    state.sentStanza(message('b'));
    assert.equal(state.sent, 1);
    assert.deepEqual(state.acknowledge(0)?.map((s) => s.attr('id')), ['a']);
    assert.deepEqual(state.acknowledge(1)?.map((s) => s.attr('id')), ['b']);
    state.handled = H_MODULUS - 1;
    state.countHandled();
    assert.equal(state.handled, 0);
  });

  test('h attributes are unsigned 32-bit integers', () => {
    assert.equal(parseH('0'), 0);
    assert.equal(parseH('4294967295'), 4294967295);
    assert.equal(parseH('4294967296'), null);
    assert.equal(parseH('-1'), null);
    assert.equal(parseH('1.5'), null);
    assert.equal(parseH(undefined), null);
  });
});
