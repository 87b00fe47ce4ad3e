import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProjectionProgress } from './projection-progress';

test('given a waiter, when the projection applies its event, then it wakes at once', async () => {
  const progress = new ProjectionProgress();
  const waiting = progress.waitUntilApplied('e-1', async () => false, 10_000);
  setImmediate(() => progress.applied(['e-0', 'e-1']));
  const started = Date.now();
  assert.equal(await waiting, true);
  assert.ok(Date.now() - started < 5_000);
});

test('given another replica applied the event, when the database says so, then the waiter returns true', async () => {
  let applied = false;
  setTimeout(() => (applied = true), 20);
  assert.equal(await new ProjectionProgress().waitUntilApplied('e-2', async () => applied, 10_000), true);
});

test('given the event is never applied, then the waiter gives up after its timeout', async () => {
  assert.equal(await new ProjectionProgress().waitUntilApplied('e-3', async () => false, 50), false);
});

test('given a tracked move of bob, when his next query settles, then it waits until the projection applied it', async () => {
  const progress = new ProjectionProgress();
  let checks = 0;
  progress.track('bob@localhost', 'e-4', async () => (checks++, false), 10_000);
  let settled = false;
  const waiting = progress.settled('bob@localhost').then((ok) => (settled = ok));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'not before it is applied');
  assert.equal(await progress.settled('alice@localhost'), true, 'other users do not wait');
  progress.applied(['e-4']);
  await waiting;
  assert.equal(settled, true);
  assert.equal(checks, 0, 'woken by the projection: the database was not asked');
  assert.equal(await progress.settled('bob@localhost'), true, 'nothing left to wait for');
});

test('given a tracked move that is never applied, then settling gives up after its timeout and forgets it', async () => {
  const progress = new ProjectionProgress();
  progress.track('bob@localhost', 'e-5', async () => false, 50);
  assert.equal(await progress.settled('bob@localhost'), false);
  assert.equal(await progress.settled('bob@localhost'), true);
});
