import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureLimiter } from './failure-limiter';

test('a key is blocked after `limit` failures and released when its window ends', () => {
  let now = 0;
  const limiter = new FailureLimiter(3, 1000, () => now);
  limiter.fail('10.0.0.1');
  limiter.fail('10.0.0.1');
  assert.equal(limiter.blocked('10.0.0.1'), false);
  limiter.fail('10.0.0.1');
  assert.equal(limiter.blocked('10.0.0.1'), true);
  assert.equal(limiter.blocked('10.0.0.2'), false);
  now = 1000;
  assert.equal(limiter.blocked('10.0.0.1'), false);
});
