import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveError } from './archive-error';
import { cutPage, firstIndexOf, planPage } from './rsm';

test('given no RSM, then the first page of the server maximum is served forward', () => {
  assert.deepEqual(planPage(undefined, 250), { limit: 250, direction: 'forward', offset: 0 });
});

test('given max above the server maximum, then the server maximum applies', () => {
  assert.equal(planPage({ max: 1000 }, 250).limit, 250);
});

test('given an empty before, then the last page is served backward without a cursor', () => {
  assert.deepEqual(planPage({ max: 50, before: '' }, 250), { limit: 50, direction: 'backward', offset: 0 });
});

test('given after and before together, then the request is refused with bad-request', () => {
  assert.throws(() => planPage({ after: 'a', before: 'b' }, 250), (e: unknown) => e instanceof ArchiveError && e.condition === 'bad-request');
});

test('given more rows than the page, when cut backward, then the page is in archive order and incomplete', () => {
  const plan = planPage({ max: 2, before: 'x' }, 250);
  assert.deepEqual(cutPage([5, 4, 3], plan), { items: [4, 5], complete: false });
  assert.deepEqual(cutPage([5, 4], plan), { items: [4, 5], complete: true });
});

test('given the last page of 10 items with 3 on it, then its first index is 7', () => {
  assert.equal(firstIndexOf(planPage({ before: '' }, 250), 10, 3), 7);
  assert.equal(firstIndexOf(planPage({ index: 4 }, 250), 10, 3), 4);
  assert.equal(firstIndexOf(planPage({ after: 'x' }, 250), 10, 3), undefined);
});
