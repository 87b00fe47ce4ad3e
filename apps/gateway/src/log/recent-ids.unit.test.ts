import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentIds } from './recent-ids';

test('an id is new once, and again after it was forgotten to make room', () => {
  const seen = new RecentIds(2);
  assert.deepEqual(['a', 'a', 'b', 'c', 'a'].map((id) => seen.firstTime(id)), [true, false, true, true, true]);
});
