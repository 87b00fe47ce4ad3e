import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyEntry } from './roster-entry';
import { inbound, outbound } from './subscription';

describe('subscription states (RFC 6121 Appendix A)', () => {
  test('given no entry, when the owner subscribes, then the contact is listed with a pending request', () => {
    const { entry, changed, forward } = outbound(emptyEntry('bob@localhost'), 'subscribe');
    assert.deepEqual([entry.listed, entry.askOut, entry.subscription, changed, forward], [true, true, 'none', true, true]);
  });

  test('given a pending request, when the contact approves, then the owner has "to" and no pending flag', () => {
    const pending = outbound(emptyEntry('bob@localhost'), 'subscribe').entry;
    const { entry, forward } = inbound(pending, 'subscribed');
    assert.deepEqual([entry.subscription, entry.askOut, forward], ['to', false, true]);
  });

  test('given no request from the contact, an unsolicited "subscribed" is ignored', () => {
    const { entry, changed, forward } = inbound(emptyEntry('mallory@localhost'), 'subscribed');
    assert.deepEqual([entry.subscription, changed, forward], ['none', false, false]);
  });

  test('given the contact already has "from", a new request is answered automatically and not shown', () => {
    const entry = { ...emptyEntry('alice@localhost'), subscription: 'from' as const, listed: true };
    const transition = inbound(entry, 'subscribe');
    assert.equal(transition.autoReply, 'subscribed');
    assert.equal(transition.forward, false);
  });

  test('given "both", approving is a no-op and unsubscribed leaves "to"', () => {
    const both = { ...emptyEntry('alice@localhost'), subscription: 'both' as const, listed: true };
    assert.equal(outbound(both, 'subscribed').forward, false);
    assert.equal(outbound(both, 'unsubscribed').entry.subscription, 'to');
  });

  test('given a request pending in, approving it gives "from" and lists the requester', () => {
    const requested = inbound(emptyEntry('alice@localhost'), 'subscribe').entry;
    assert.equal(requested.listed, false);
    const { entry } = outbound(requested, 'subscribed');
    assert.deepEqual([entry.subscription, entry.pendingIn, entry.listed], ['from', false, true]);
  });
});
