import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectXmpp, trustCertificate, type TestXmppClient } from '@hearth/testing';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process';

const USERS = 200;

describe('200 clients log in at once', () => {
  let gateway: GatewayProcess;
  const clients: TestXmppClient[] = [];

  before(async () => {
    gateway = await startGatewayProcess();
    trustCertificate(gateway.certFile);
    await Promise.all(Array.from({ length: USERS }, (_, i) => gateway.createUser(`user${i}@localhost`, `password-${i}`)));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await gateway?.stop();
  });

  test('all 200 succeed, spread over STARTTLS, direct TLS and WebSocket', async () => {
    const services = [`xmpp://127.0.0.1:${gateway.ports.c2s}`, `xmpps://127.0.0.1:${gateway.ports.c2sTls}`, `wss://127.0.0.1:${gateway.ports.https}/xmpp-websocket`];
    const results = await Promise.allSettled(Array.from({ length: USERS }, (_, i) =>
      connectXmpp({ service: services[i % 3]!, domain: 'localhost', username: `user${i}`, password: `password-${i}`, mechanism: 'SCRAM-SHA-256', timeoutMs: 30_000 })));
    for (const result of results) if (result.status === 'fulfilled') clients.push(result.value);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
    assert.deepEqual(failures, []);
    assert.equal(new Set(clients.map((c) => c.bareJid)).size, USERS);
    const health = (await (await fetch(`${gateway.adminUrl}/healthz`)).json()) as { sessions: number };
    assert.equal(health.sessions, USERS);
  });
});
