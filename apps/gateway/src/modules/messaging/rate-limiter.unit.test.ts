import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageRateLimiter } from './rate-limiter';

test('given a burst of 3 at 2/s, when 4 messages come at once, then the 4th is refused, and half a second later one more passes', () => {
  let now = 1_000;
  const limiter = new MessageRateLimiter<object>(2, 3, () => now);
  const session = {};
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take(session)), [true, true, true, false]);
  now += 500;
  assert.equal(limiter.take(session), true);
  assert.equal(limiter.take(session), false);
});

test('sessions have their own buckets', () => {
  const limiter = new MessageRateLimiter<object>(1, 1, () => 0);
  assert.equal(limiter.take({}), true);
  assert.equal(limiter.take({}), true);
});
