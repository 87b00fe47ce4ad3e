import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushError } from './push.errors';
import { decideDisable, decideEnable, decideRegister, xep0357DeviceId } from './registration';

const TOKEN = 'ab'.repeat(32);
const domains = ['localhost'];

test('given a XEP-0357 enable from bob/iphone, the registration is tied to that resource and to (jid, node)', () => {
  const registered = decideEnable({ actor: 'Bob@localhost/iphone', service: 'push.localhost', node: 'n1', deviceToken: TOKEN.toUpperCase(), bundleId: 'com.example.chat', environment: 'sandbox' }, domains);
  assert.deepEqual(registered, {
    user: 'bob@localhost', deviceId: xep0357DeviceId('push.localhost', 'n1'), deviceToken: TOKEN, bundleId: 'com.example.chat',
    environment: 'sandbox', pushService: 'push.localhost', pushNode: 'n1', resource: 'iphone', via: 'xep-0357',
  });
});

test('an enable without a full JID, a node or a hex token is refused with a condition', () => {
  const base = { actor: 'bob@localhost/iphone', service: 'push.localhost', node: 'n1', deviceToken: TOKEN, bundleId: 'com.example.chat', environment: 'sandbox' };
  const condition = (f: () => unknown) => { try { f(); } catch (e) { return (e as PushError).condition; } return 'none'; };
  assert.equal(condition(() => decideEnable({ ...base, actor: 'bob@localhost' }, domains)), 'jid-malformed');
  assert.equal(condition(() => decideEnable({ ...base, node: '' }, domains)), 'bad-request');
  assert.equal(condition(() => decideEnable({ ...base, deviceToken: 'xyz' }, domains)), 'bad-request');
  assert.equal(condition(() => decideEnable({ ...base, actor: 'bob@elsewhere/iphone' }, domains)), 'forbidden');
});

test('disable without a node removes every registration with that service; with a node only that one', () => {
  const registrations = [
    { deviceId: 'a', pushService: 'push.localhost', pushNode: 'n1' },
    { deviceId: 'b', pushService: 'push.localhost', pushNode: 'n2' },
    { deviceId: 'c', pushService: null, pushNode: null },
  ];
  assert.deepEqual(decideDisable({ actor: 'bob@localhost/web', service: 'push.localhost' }, registrations, domains).map((u) => u.deviceId), ['a', 'b']);
  assert.deepEqual(decideDisable({ actor: 'bob@localhost/web', service: 'push.localhost', node: 'n2' }, registrations, domains).map((u) => u.deviceId), ['b']);
});

test('an HTTP registration may omit the resource (never active) or name one', () => {
  const r = decideRegister({ user: 'bob@localhost', deviceId: 'bob-iphone', deviceToken: TOKEN, bundleId: 'com.example.chat', environment: 'production' }, domains);
  assert.equal(r.resource, undefined);
  assert.equal(r.via, 'http');
  assert.throws(() => decideRegister({ user: 'bob', deviceId: 'x', deviceToken: TOKEN, bundleId: 'b', environment: 'sandbox' }, domains), PushError);
});
