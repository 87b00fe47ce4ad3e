import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectXmpp, trustCertificate, xml, type TestXmppClient } from '@hearth/testing';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process';
import { RawStream } from './support/raw-stream';

describe('sessions: binding, disco, ping, version (RFC 6120 §7, XEP-0030, XEP-0199, XEP-0092)', () => {
  let gateway: GatewayProcess;
  const clients: TestXmppClient[] = [];
  const login = async (resource?: string) => {
    const client = await connectXmpp({ service: `xmpps://127.0.0.1:${gateway.ports.c2sTls}`, domain: 'localhost', username: 'alice', password: 'alice-password', mechanism: 'SCRAM-SHA-1', resource });
    clients.push(client);
    return client;
  };

  before(async () => {
    gateway = await startGatewayProcess({ HEARTH_GATEWAY_PING_AFTER_MS: '1000', HEARTH_GATEWAY_PING_TIMEOUT_MS: '2000' });
    trustCertificate(gateway.certFile);
    await gateway.createUser('alice@localhost', 'alice-password');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await gateway?.stop();
  });

  test('on SIGTERM the gateway closes every stream with system-shutdown and exits 0', async () => {
    const own = await startGatewayProcess();
    try {
      const stream = await RawStream.open(own.ports.c2s);
      await stream.write(RawStream.header());
      await stream.waitFor(/<\/stream:features>/);
      const exit = own.stop();
      assert.equal(await stream.streamError(), 'system-shutdown');
      assert.equal(await exit, 0);
    } finally {
      await own.stop();
    }
  });

  test('alice binds without a resource and the server generates one; two resources coexist', async () => {
    const first = await login();
    const second = await login('laptop');
    assert.match(first.jid, /^alice@localhost\/[0-9a-f]{16}$/);
    assert.equal(second.jid, 'alice@localhost/laptop');
    const pong = await first.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'alice@localhost/laptop');
    assert.equal(pong.attrs.type, 'result', 'a ping to the other resource is answered by it');
  });

  test('binding the same full JID again replaces the older session with a conflict stream error', async () => {
    const older = await login('phone');
    const closed = new Promise<string>((resolve) => older.raw.on('error', (e) => resolve((e as { condition?: string }).condition ?? String(e))));
    const newer = await login('phone');
    assert.equal(await closed, 'conflict');
    assert.equal(newer.jid, 'alice@localhost/phone');
  });

  test('the server pings an idle client (XEP-0199 §4.2); the client answers and stays connected', async () => {
    const alice = await login('idle');
    const ping = await alice.waitFor((s) => s.is('iq') && s.attrs.type === 'get' && !!s.getChild('ping', 'urn:xmpp:ping'), 'a server ping', 5_000);
    assert.equal(ping.attrs.from, 'localhost');
    await new Promise((r) => setTimeout(r, 2_500)); // past the ping timeout: answered, so still connected
    assert.equal((await alice.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost')).attrs.type, 'result');
  });

  test('the server answers disco#info with exactly its features, ping, and its version', async () => {
    const alice = await login('disco');
    const info = await alice.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'localhost');
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.deepEqual(features, ['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'jabber:iq:version', 'urn:xmpp:carbons:2', 'urn:xmpp:ping', 'urn:xmpp:receipts', 'urn:xmpp:sid:0']);
    assert.equal(info.getChild('query')!.getChild('identity')!.attrs.category, 'server');
    assert.equal((await alice.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost')).attrs.type, 'result');
    const version = await alice.iq('get', xml('query', { xmlns: 'jabber:iq:version' }), 'localhost');
    assert.equal(version.getChild('query')!.getChildText('name'), 'Hearth');
    await assert.rejects(alice.iq('get', xml('query', { xmlns: 'urn:example:unknown' }), 'localhost'), (e: { condition?: string }) => e.condition === 'service-unavailable');
  });
});
