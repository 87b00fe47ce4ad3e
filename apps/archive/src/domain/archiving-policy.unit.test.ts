import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preferencesAt, shouldArchive, type ArchivePreferences } from './archiving-policy';

const prefs = (mode: ArchivePreferences['mode'], effectiveAt: number, lists: Partial<Pick<ArchivePreferences, 'always' | 'never'>> = {}) =>
  ({ mode, effectiveAt, always: lists.always ?? [], never: lists.never ?? [] });

test('given no preferences, then everything is archived', () => {
  assert.equal(shouldArchive(undefined, 'carol@localhost'), true);
});

test('given default never with carol on the always list, then only carol is archived', () => {
  const p = prefs('never', 0, { always: ['carol@localhost'] });
  assert.equal(shouldArchive(p, 'carol@localhost'), true);
  assert.equal(shouldArchive(p, 'alice@localhost'), false);
});

test('given a JID on both lists, then never wins', () => {
  assert.equal(shouldArchive(prefs('always', 0, { always: ['x@localhost'], never: ['x@localhost'] }), 'x@localhost'), false);
});

test('given roster, then it is treated as always (the roster lives in the gateway)', () => {
  assert.equal(shouldArchive(prefs('roster', 0), 'stranger@localhost'), true);
});

test('given a history, when a message is judged, then the preferences in force at its acceptedAt apply', () => {
  const history = [prefs('always', 100), prefs('never', 200)];
  assert.equal(preferencesAt(history, 50), undefined);
  assert.equal(preferencesAt(history, 150)?.mode, 'always');
  assert.equal(preferencesAt(history, 200)?.mode, 'never');
});
