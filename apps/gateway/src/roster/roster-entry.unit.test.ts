import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyEntry, rosterVersion, type RosterEntry } from './roster-entry';

const item = (contact: string, changes: Partial<RosterEntry> = {}): RosterEntry => ({ ...emptyEntry(contact), listed: true, ...changes });

test('the roster version follows what a roster get shows: items, names, groups as a set, subscriptions, pending asks', () => {
  const roster = [item('bob@localhost', { name: 'Bob', groups: ['Friends', 'Work'] }), item('carol@localhost', { subscription: 'both' })];
  const version = rosterVersion(roster);
  assert.equal(rosterVersion([...roster].reverse()), version, 'whatever order the store returns');
  assert.equal(rosterVersion([item('bob@localhost', { name: 'Bob', groups: ['Work', 'Friends'] }), roster[1]!]), version, 'groups are a set');
  assert.equal(rosterVersion([...roster, { ...emptyEntry('dave@localhost'), pendingIn: true }]), version, 'a request that is not an item is not shown');
  for (const changed of [
    [item('bob@localhost', { name: 'Robert', groups: ['Friends', 'Work'] }), roster[1]!],
    [roster[0]!, item('carol@localhost', { subscription: 'to' })],
    [roster[0]!, item('carol@localhost', { subscription: 'both', askOut: true })],
    [roster[0]!],
  ]) assert.notEqual(rosterVersion(changed), version);
});
