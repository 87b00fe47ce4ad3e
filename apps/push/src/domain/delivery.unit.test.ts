import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, decideDelivery } from './delivery';

const policy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

test('200 is sent; 410 and BadDeviceToken unregister the device', () => {
  assert.deepEqual(decideDelivery({ status: 200 }, 1, policy, 0), { kind: 'sent' });
  assert.equal(decideDelivery({ status: 410, reason: 'Unregistered' }, 1, policy, 0).kind, 'unregister');
  assert.deepEqual(decideDelivery({ status: 400, reason: 'BadDeviceToken' }, 1, policy, 0),
    { kind: 'unregister', reason: 'apns-bad-token', detail: '400 BadDeviceToken' });
});

test('429 and 5xx are retried with backoff until the bound, then failed', () => {
  assert.deepEqual(decideDelivery({ status: 500 }, 1, policy, 1), { kind: 'retry', delayMs: 100, reason: '500' });
  assert.equal(decideDelivery({ status: 429, reason: 'TooManyRequests' }, 2, policy, 1).kind, 'retry');
  assert.equal(decideDelivery({ status: 503 }, 3, policy, 1).kind, 'failed');
  assert.equal(decideDelivery({ transportError: 'ECONNREFUSED' }, 1, policy, 1).kind, 'retry');
});

test('a timeout after the request was written is unknown, never resent; other 4xx fail', () => {
  assert.equal(decideDelivery({ status: '(timeout)' }, 1, policy, 0).kind, 'unknown');
  assert.equal(decideDelivery({ status: 400, reason: 'BadTopic' }, 1, policy, 0).kind, 'failed');
});

test('backoff doubles, is capped, and jitter keeps it within [half, full]', () => {
  assert.equal(backoffDelay(1, policy, 1), 100);
  assert.equal(backoffDelay(3, policy, 1), 400);
  assert.equal(backoffDelay(10, policy, 1), 1_000);
  assert.equal(backoffDelay(1, policy, 0), 50);
});
