import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppliedEvents } from './applied-events';

test('a command waiting for its events resumes when the projection applied all of them', async () => {
  const events = new AppliedEvents();
  const waiting = events.waitFor(['e-1', 'e-2'], 10_000);
  events.applied(['e-1']);
  setImmediate(() => events.applied(['e-0', 'e-2']));
  assert.equal(await waiting, true);
});

test('events applied by nobody here: the wait gives up after its timeout', async () => {
  const events = new AppliedEvents();
  const started = Date.now();
  assert.equal(await events.waitFor(['e-3'], 30), false);
  assert.ok(Date.now() - started >= 25);
  events.applied(['e-3']); // nothing left waiting; nothing breaks
});
