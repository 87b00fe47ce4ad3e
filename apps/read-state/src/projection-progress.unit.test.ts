import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProjectionProgress } from './projection-progress';

test('given a waiter, when the projection applies its event, then it wakes at once', async () => {
  const progress = new ProjectionProgress();
  const waiting = progress.waitFor('e-1', async () => false, 10_000);
  setImmediate(() => progress.applied(['e-0', 'e-1']));
  const started = Date.now();
  assert.equal(await waiting, true);
  assert.ok(Date.now() - started < 5_000);
});

test('given another replica applied the event, when the database says so, then the waiter returns true', async () => {
  let applied = false;
  setTimeout(() => (applied = true), 20);
  assert.equal(await new ProjectionProgress().waitFor('e-2', async () => applied, 10_000), true);
});

test('given the event is never applied, then the waiter gives up after its timeout', async () => {
  assert.equal(await new ProjectionProgress().waitFor('e-3', async () => false, 50), false);
});
