import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { connectXmpp, failedLogin, trustCertificate, type SaslMechanismName, type XmppLogin } from '@hearth/testing';
import { JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, startGatewayProcess, type GatewayProcess } from './support/gateway-process';

/** Logging in over every transport with every mechanism, and the refusals (issue 4, "Done when"). */
describe('login over TCP+STARTTLS, direct TLS and WebSocket', () => {
  let gateway: GatewayProcess;
  const PASSWORD = 'correct horse battery';

  before(async () => {
    // Many refusals for alice below: the per-account limit is tested on its own in hostile-input.
    gateway = await startGatewayProcess({ HEARTH_GATEWAY_AUTH_FAILURES_PER_ACCOUNT: '1000' });
    trustCertificate(gateway.certFile);
    await gateway.createUser('alice@localhost', PASSWORD);
  });
  after(async () => {
    await gateway?.stop();
  });

  const services = () => ({
    'TCP+STARTTLS': `xmpp://127.0.0.1:${gateway.ports.c2s}`,
    'direct TLS': `xmpps://127.0.0.1:${gateway.ports.c2sTls}`,
    'WebSocket (wss)': `wss://127.0.0.1:${gateway.ports.https}/xmpp-websocket`,
  });
  const login = async (service: string, mechanism: SaslMechanismName, extra: Partial<XmppLogin> = {}) => {
    const token = mechanism === 'OAUTHBEARER' || mechanism === 'X-OAUTH2' ? await gateway.token('alice@localhost') : undefined;
    return connectXmpp({ service, domain: 'localhost', username: 'alice', password: PASSWORD, token, mechanism, ...extra });
  };

  for (const transport of ['TCP+STARTTLS', 'direct TLS', 'WebSocket (wss)'] as const) {
    for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN', 'OAUTHBEARER', 'X-OAUTH2'] as const) {
      test(`alice logs in over ${transport} with ${mechanism}`, async () => {
        const alice = await login(services()[transport], mechanism);
        try {
          assert.match(alice.jid, /^alice@localhost\/.+/);
        } finally {
          await alice.stop();
        }
      });
    }
  }

  test('alice logs in over plain ws with SCRAM, and PLAIN is not offered there', async () => {
    const service = `ws://127.0.0.1:${gateway.ports.http}/xmpp-websocket`;
    const alice = await login(service, 'SCRAM-SHA-256');
    await alice.stop();
    assert.match(await failedLogin({ service, domain: 'localhost', username: 'alice', password: PASSWORD, mechanism: 'PLAIN' }), /does not offer PLAIN/);
  });

  test('a wrong password is refused with not-authorized, like an unknown account', async () => {
    const service = services()['TCP+STARTTLS'];
    assert.equal(await failedLogin({ service, domain: 'localhost', username: 'alice', password: 'wrong password', mechanism: 'SCRAM-SHA-256' }), 'not-authorized');
    assert.equal(await failedLogin({ service, domain: 'localhost', username: 'nobody', password: 'wrong password', mechanism: 'SCRAM-SHA-256' }), 'not-authorized');
    assert.equal(await failedLogin({ service, domain: 'localhost', username: 'alice', password: 'wrong password', mechanism: 'PLAIN' }), 'not-authorized');
  });

  const sign = (claims: { exp: number; aud?: string; iss?: string; nbf?: number }, secret = JWT_SECRET) =>
    new SignJWT({ nbf: claims.nbf }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice@localhost').setIssuer(claims.iss ?? JWT_ISSUER)
      .setAudience(claims.aud ?? JWT_AUDIENCE).setExpirationTime(claims.exp).sign(new TextEncoder().encode(secret));
  const now = () => Math.floor(Date.now() / 1000);

  for (const [name, token] of [
    ['an expired token', () => sign({ exp: now() - 120 })],
    ['a wrongly signed token', () => sign({ exp: now() + 600 }, 'another-secret-0123456789abcdef0123456789')],
    ['a token for another audience', () => sign({ exp: now() + 600, aud: 'another-product' })],
    ['a token from another issuer', () => sign({ exp: now() + 600, iss: 'https://evil.example' })],
    ['a token not valid yet', () => sign({ exp: now() + 6000, nbf: now() + 3000 })],
  ] as const) {
    for (const mechanism of ['OAUTHBEARER', 'X-OAUTH2'] as const) {
      test(`${name} is refused with ${mechanism}`, async () => {
        const condition = await failedLogin({ service: services()['direct TLS'], domain: 'localhost', username: 'alice', token: await token(), mechanism });
        assert.equal(condition, 'not-authorized');
      });
    }
  }

  test('a valid token for bob cannot log in as alice', async () => {
    const token = await gateway.token('bob@localhost');
    const condition = await failedLogin({ service: services()['direct TLS'], domain: 'localhost', username: 'alice', token, mechanism: 'X-OAUTH2' });
    assert.equal(condition, 'not-authorized');
  });
});
