import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copiesOf, planIngest, type AcceptedMessage, type IngestState } from './ingest-plan';

const GAP = 15 * 60_000;
const message = (id: string, sender: string, recipient: string, acceptedAt: string): AcceptedMessage =>
  ({ stanzaId: id, sender, senderFullJid: `${sender}/phone`, recipient, to: recipient, stanza: `<message id='${id}'/>`, acceptedAt });
const empty = (): IngestState => ({ owners: new Map(), preferences: new Map(), trackers: new Map() });

test('given alice writes to bob, then the message has a copy in each archive', () => {
  const copies = copiesOf([message('s1', 'alice@localhost', 'bob@localhost', '2026-01-01T00:00:00Z')]);
  assert.deepEqual(copies.map((c) => [c.owner, c.peer, c.peerJid, c.outgoing]), [
    ['alice@localhost', 'bob@localhost', 'bob@localhost', true],
    ['bob@localhost', 'alice@localhost', 'alice@localhost/phone', false],
  ]);
});

test('given a note to oneself, then there is one copy', () => {
  assert.equal(copiesOf([message('s1', 'alice@localhost', 'alice@localhost', '2026-01-01T00:00:00Z')]).length, 1);
});

test('given gateways with skewed clocks, when messages are planned, then positions follow consumption order, not acceptedAt', () => {
  const copies = copiesOf([
    message('late-clock', 'alice@localhost', 'bob@localhost', '2026-01-01T00:00:30Z'),
    message('early-clock', 'carol@localhost', 'bob@localhost', '2026-01-01T00:00:00Z'),
  ], (owner) => owner === 'bob@localhost');
  const state = empty();
  state.owners.set('bob@localhost', { lastSeq: 7n });
  const plan = planIngest(copies, state, GAP);
  assert.deepEqual(plan.rows.map((r) => [r.stanzaId, r.seq]), [['late-clock', 8n], ['early-clock', 9n]]);
  assert.equal(plan.lastSeq.get('bob@localhost'), 9n);
});

test('given a skipped message, then it still takes its position, so later positions do not depend on what was skipped', () => {
  const state = empty();
  state.retentionBefore = Date.parse('2026-01-01T00:00:10Z');
  const copies = copiesOf([message('old', 'alice@localhost', 'bob@localhost', '2026-01-01T00:00:00Z'),
    message('new', 'alice@localhost', 'bob@localhost', '2026-01-01T00:00:20Z')]);
  const plan = planIngest(copies, state, GAP);
  assert.deepEqual(plan.rows.map((r) => [r.owner, r.stanzaId, r.seq]), [['alice@localhost', 'new', 2n], ['bob@localhost', 'new', 2n]]);
});

test('given bob deleted his account, then his earlier messages are not archived again but alice keeps her copy', () => {
  const state = empty();
  state.owners.set('bob@localhost', { lastSeq: 0n, deletedBefore: Date.parse('2026-01-01T00:01:00Z') });
  const plan = planIngest(copiesOf([message('s1', 'alice@localhost', 'bob@localhost', '2026-01-01T00:00:00Z')]), state, GAP);
  assert.deepEqual(plan.rows.map((r) => r.owner), ['alice@localhost']);
});

test('given bob archives never, then only alice keeps the message', () => {
  const state = empty();
  state.preferences.set('bob@localhost', [{ mode: 'never', always: [], never: [], effectiveAt: 0 }]);
  const plan = planIngest(copiesOf([message('s1', 'alice@localhost', 'bob@localhost', '2026-01-01T00:00:00Z')]), state, GAP);
  assert.deepEqual(plan.rows.map((r) => r.owner), ['alice@localhost']);
});

test('given a shard that owns bob but not alice, then only bob\'s copies of their messages are made', () => {
  const copies = copiesOf([
    message('s1', 'alice@localhost', 'bob@localhost', '2026-01-01T00:00:00Z'),
    message('s2', 'bob@localhost', 'alice@localhost', '2026-01-01T00:00:01Z'),
    message('s3', 'alice@localhost', 'alice@localhost', '2026-01-01T00:00:02Z'),
  ], (owner) => owner === 'bob@localhost');
  assert.deepEqual(copies.map((c) => [c.stanzaId, c.owner, c.outgoing]), [['s1', 'bob@localhost', false], ['s2', 'bob@localhost', true]]);
});
