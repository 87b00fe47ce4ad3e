/**
 * An account deleted on one gateway loses its sessions on every gateway (the AccountDeleted event
 * reaches them through the log), and cannot log in again anywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type Stack } from './support/stack';

describe('deleting an account', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ gateways: 2, users: ['mallory@localhost'] });
  });
  after(() => stack?.stop());

  test('mallory is connected to the second gateway; the admin deletes her through the first; her stream ends there too', async () => {
    const mallory = await stack.connect('mallory@localhost', { resource: 'laptop', gateway: 1 });
    const closed = new Promise<string>((resolve) => {
      mallory.raw.on('error', (error) => resolve((error as { condition?: string }).condition ?? String(error)));
    });
    const { status } = await stack.gateways[0]!.admin('DELETE', '/admin/users/mallory@localhost');
    assert.equal(status, 204);
    const condition = await Promise.race([closed, new Promise<string>((resolve) => setTimeout(() => resolve('still connected after 10 s'), 10_000))]);
    assert.equal(condition, 'not-authorized');
    await mallory.stop();
    await assert.rejects(stack.connect('mallory@localhost', { gateway: 1 }), 'a deleted account cannot log in');
  });
});
