import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectXmpp, trustCertificate, xml, type TestXmppClient } from '@hearth/testing';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process';
import { RawStream } from './support/raw-stream';

const MiB = 1024 * 1024;
/** The default of HEARTH_GATEWAY_MAX_STANZA_BYTES (256 KiB), which this file's gateway runs with. */
const DEFAULT_MAX_STANZA_BYTES = 256 * 1024;

/** Hostile input (issue 4): each gets the right stream error or refusal; memory stays bounded; others stay connected. */
describe('hostile input', () => {
  let gateway: GatewayProcess;
  let bystander: TestXmppClient;
  const raws: RawStream[] = [];
  const raw = async (secure = false) => {
    const stream = await RawStream.open(secure ? gateway.ports.c2sTls : gateway.ports.c2s, secure);
    raws.push(stream);
    return stream;
  };

  before(async () => {
    gateway = await startGatewayProcess({ HEARTH_GATEWAY_AUTH_TIMEOUT_MS: '1500' });
    trustCertificate(gateway.certFile);
    await gateway.createUser('alice@localhost', 'alice-password');
    await gateway.createUser('bob@localhost', 'bob-password');
    bystander = await connectXmpp({ service: `xmpp://127.0.0.1:${gateway.ports.c2s}`, domain: 'localhost', username: 'bob', password: 'bob-password', mechanism: 'SCRAM-SHA-256', resource: 'bystander' });
  });
  after(async () => {
    for (const stream of raws) stream.destroy();
    await bystander?.stop();
    await gateway?.stop();
  });

  /** A raw direct-TLS stream logged in with PLAIN (RFC 6120 §6, after TLS) and bound to `resource`. */
  async function boundStream(username: string, password: string, resource: string): Promise<RawStream> {
    const stream = await raw(true);
    await stream.write(RawStream.header());
    await stream.waitFor(/<\/stream:features>/);
    await stream.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString('base64')}</auth>`);
    await stream.waitFor(/<success/);
    stream.text = '';
    await stream.write(RawStream.header());
    await stream.waitFor(/<\/stream:features>/);
    await stream.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await stream.waitFor(/<\/jid>/);
    stream.text = '';
    return stream;
  }

  /** The logged-in bystander still gets answers from the server. */
  async function bystanderStillConnected(): Promise<void> {
    const pong = await bystander.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost');
    assert.equal(pong.attrs.type, 'result');
  }

  test('not-well-formed XML gets not-well-formed and a closed stream', async () => {
    const stream = await raw();
    await stream.write(`${RawStream.header()}<message><body>hi</message>`);
    assert.equal(await stream.streamError(), 'not-well-formed');
    await stream.waitFor(/<\/stream:stream>$/);
    await stream.closed;
    await bystanderStillConnected();
  });

  test('a DTD with nested entities (billion laughs) is refused with restricted-xml, unexpanded', async () => {
    const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
    const stream = await raw();
    await stream.write(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${entities}]>${RawStream.header()}<message><body>&lol9;</body></message>`);
    assert.equal(await stream.streamError(), 'restricted-xml');
    await stream.closed;
    await bystanderStillConnected();
  });

  test('an entity reference that is not predefined is not-well-formed', async () => {
    const stream = await raw();
    await stream.write(`${RawStream.header()}<message><body>&xxe;</body></message>`);
    assert.equal(await stream.streamError(), 'not-well-formed');
  });

  test('processing instructions and comments are restricted-xml', async () => {
    for (const payload of ['<?evil stuff?>', '<!-- hello -->']) {
      const stream = await raw();
      await stream.write(`${RawStream.header()}${payload}`);
      assert.equal(await stream.streamError(), 'restricted-xml');
    }
  });

  test('a 10 MiB stanza gets policy-violation and the gateway\'s memory stays bounded', async () => {
    const before = gateway.rssBytes();
    const stream = await raw();
    await stream.write(`${RawStream.header()}<message to='bob@localhost'><body>`);
    const chunk = 'a'.repeat(MiB);
    for (let i = 0; i < 10 && !stream.socket.destroyed; i++) await stream.write(chunk);
    assert.equal(await stream.streamError(), 'policy-violation');
    await stream.closed;
    const growth = gateway.rssBytes() - before;
    assert.ok(growth < 32 * MiB, `gateway RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    await bystanderStillConnected();
  });

  // HEARTH_GATEWAY_MAX_STANZA_BYTES counts UTF-8 bytes, not characters: `<presence><status>` +
  // n × "€" (3 bytes, 1 character) + `</status></presence>` is 38 + 3n bytes, about a third of
  // that in characters, so a character count would let the oversized one through.
  test('the stanza cap counts bytes: a multi-byte stanza just over it gets policy-violation, one just under is accepted', async () => {
    const presence = (n: number) => `<presence><status>${'€'.repeat(n)}</status></presence>`;
    const under = presence(Math.floor((DEFAULT_MAX_STANZA_BYTES - 38) / 3));
    const over = presence(Math.floor((DEFAULT_MAX_STANZA_BYTES - 38) / 3) + 1);
    assert.ok(Buffer.byteLength(under) <= DEFAULT_MAX_STANZA_BYTES && Buffer.byteLength(over) === Buffer.byteLength(under) + 3);
    assert.ok(Buffer.byteLength(over) > DEFAULT_MAX_STANZA_BYTES && over.length < DEFAULT_MAX_STANZA_BYTES / 2);

    const accepted = await boundStream('alice', 'alice-password', 'under-cap');
    await accepted.write(`${under}<iq type='get' id='after-under' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await accepted.waitFor(/<iq[^>]*id="after-under"[^>]*type="result"|<iq[^>]*type="result"[^>]*id="after-under"/, 10_000);
    assert.doesNotMatch(accepted.text, /stream:error/);

    const refused = await boundStream('alice', 'alice-password', 'over-cap');
    await refused.write(over);
    assert.equal(await refused.streamError(10_000), 'policy-violation');
    await refused.closed;
    await bystanderStillConnected();
  });

  test('elements nested too deep get policy-violation', async () => {
    const stream = await raw();
    await stream.write(`${RawStream.header()}<message>${'<x>'.repeat(100)}`);
    assert.equal(await stream.streamError(), 'policy-violation');
  });

  test('a stream to an unknown host gets host-unknown; an old version gets unsupported-version', async () => {
    const unknown = await raw();
    await unknown.write(RawStream.header('evil.example'));
    assert.equal(await unknown.streamError(), 'host-unknown');
    const old = await raw();
    await old.write(RawStream.header().replace("version='1.0'>", "version='0.9'>"));
    assert.equal(await old.streamError(), 'unsupported-version');
  });

  test('port 5222 offers only STARTTLS, and SASL before TLS is a policy violation', async () => {
    const stream = await raw();
    await stream.write(RawStream.header());
    const features = (await stream.waitFor(/<stream:features>.*<\/stream:features>/))[0];
    assert.match(features, /<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required\/><\/starttls>/);
    assert.doesNotMatch(features, /mechanisms/);
    await stream.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0alice-password').toString('base64')}</auth>`);
    assert.equal(await stream.streamError(), 'policy-violation');
  });

  test('a stanza before authentication gets not-authorized; silence gets connection-timeout', async () => {
    const early = await raw(true);
    await early.write(`${RawStream.header()}<message to='bob@localhost'><body>spam</body></message>`);
    assert.equal(await early.streamError(), 'not-authorized');
    const silent = await raw(true);
    assert.equal(await silent.streamError(5_000), 'connection-timeout');
  });

  async function plainLogin(username: string, password: string): Promise<string> {
    const stream = await raw(true);
    await stream.write(RawStream.header());
    await stream.waitFor(/<\/stream:features>/);
    await stream.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString('base64')}</auth>`);
    const outcome = (await stream.waitFor(/<success[^>]*\/>|<failure[^>]*><([a-z-]+)/))[1] ?? 'success';
    stream.destroy();
    return outcome;
  }

  test('failed logins for one account are limited without revealing whether it exists', async () => {
    for (let i = 0; i < 10; i++) {
      assert.equal(await plainLogin('alice', `wrong-${i}`), 'not-authorized');
      assert.equal(await plainLogin('nobody', `wrong-${i}`), 'not-authorized');
    }
    // alice's account is now locked for the window, even with the right password; so is "nobody".
    assert.equal(await plainLogin('alice', 'alice-password'), 'temporary-auth-failure');
    assert.equal(await plainLogin('nobody', 'anything'), 'temporary-auth-failure');
  });

  test('1,000 failed logins from one address are refused after the limit; the bystander stays connected', async () => {
    const outcomes = new Map<string, number>();
    const attempts = Array.from({ length: 1000 }, (_, i) => i);
    const worker = async () => {
      for (let i = attempts.shift(); i !== undefined; i = attempts.shift()) {
        const outcome = await plainLogin(`user${i}`, 'guess');
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    assert.equal(outcomes.get('success'), undefined);
    assert.equal((outcomes.get('not-authorized') ?? 0) + (outcomes.get('temporary-auth-failure') ?? 0), 1000);
    assert.ok((outcomes.get('temporary-auth-failure') ?? 0) >= 950, `refused by the limit: ${JSON.stringify([...outcomes])}`);
    await bystanderStillConnected();
    assert.ok(gateway.rssBytes() < 256 * MiB, `gateway RSS ${(gateway.rssBytes() / MiB).toFixed(0)} MiB`);
  });
});
