import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { connectXmpp, failedLogin, startPostgres, trustCertificate, xml, type TestPostgres } from '@hearth/testing';
import { ADMIN_TOKEN, startGatewayProcess, type GatewayProcess } from './support/gateway-process';

const HEARTHCTL = resolve(__dirname, '../../../../tools/hearthctl/dist/src/main.js');
const ROSTER = 'jabber:iq:roster';

/** Accounts in the gateway's PostgreSQL, managed with hearthctl through the admin API; events in the outbox. */
describe('accounts: hearthctl, admin API, PostgreSQL', () => {
  let postgres: TestPostgres;
  let databaseUrl: string;
  let gateway: GatewayProcess;

  const hearthctl = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, [HEARTHCTL, ...args], {
      env: { PATH: process.env.PATH, HEARTH_ADMIN_URL: gateway.adminUrl, HEARTH_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    return stdout.trim();
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-gateway-accounts-'));
  const start = async () => {
    gateway = await startGatewayProcess({ DATABASE_URL: databaseUrl }, { dataDir });
    trustCertificate(gateway.certFile);
  };
  const login = (username: string, password: string, resource?: string) =>
    connectXmpp({ service: `xmpps://127.0.0.1:${gateway.ports.c2sTls}`, domain: 'localhost', username, password, mechanism: 'SCRAM-SHA-256', resource });

  before(async () => {
    postgres = await startPostgres();
    databaseUrl = await postgres.freshDatabase('gateway');
    await start();
  });
  after(async () => {
    await gateway?.stop();
    await postgres?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the admin API refuses requests without the admin token', async () => {
    const response = await fetch(`${gateway.adminUrl}/admin/users`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: '{}' });
    assert.equal(response.status, 401);
  });

  test('an operator adds alice and bob with hearthctl; alice logs in with the password and with a token', async () => {
    assert.equal(await hearthctl('user', 'add', 'alice@localhost', '--password', 'alice-password-1'), 'created alice@localhost');
    await hearthctl('user', 'add', 'bob@localhost', '--password', 'bob-password-1');
    await assert.rejects(hearthctl('user', 'add', 'alice@localhost', '--password', 'again-password'), /409/);
    const alice = await login('alice', 'alice-password-1');
    await alice.stop();
    const token = await hearthctl('token', 'alice@localhost', '--ttl', '60');
    const byToken = await connectXmpp({ service: `xmpps://127.0.0.1:${gateway.ports.c2sTls}`, domain: 'localhost', username: 'alice', token, mechanism: 'OAUTHBEARER' });
    await byToken.stop();
  });

  test('accounts and rosters survive a restart of the gateway', async () => {
    const alice = await login('alice', 'alice-password-1');
    await alice.iq('set', xml('query', { xmlns: ROSTER }, xml('item', { jid: 'bob@localhost', name: 'Bobby' })));
    await alice.stop();
    await gateway.stop();
    await start();
    const again = await login('alice', 'alice-password-1');
    const roster = await again.iq('get', xml('query', { xmlns: ROSTER }));
    assert.equal(roster.getChild('query', ROSTER)!.getChild('item')!.attrs.name, 'Bobby');
    await again.stop();
  });

  test('a changed password replaces the old one; a deleted account is disconnected and cannot log in', async () => {
    await hearthctl('user', 'passwd', 'alice@localhost', '--password', 'alice-password-2');
    const service = `xmpps://127.0.0.1:${gateway.ports.c2sTls}`;
    assert.equal(await failedLogin({ service, domain: 'localhost', username: 'alice', password: 'alice-password-1', mechanism: 'SCRAM-SHA-1' }), 'not-authorized');
    const alice = await login('alice', 'alice-password-2');
    const closed = new Promise<string>((resolveClosed) => alice.raw.on('error', (e) => resolveClosed((e as { condition?: string }).condition ?? String(e))));
    assert.equal(await hearthctl('user', 'delete', 'alice@localhost'), 'deleted alice@localhost');
    assert.equal(await closed, 'not-authorized');
    assert.equal(await failedLogin({ service, domain: 'localhost', username: 'alice', password: 'alice-password-2', mechanism: 'PLAIN' }), 'not-authorized');
    await assert.rejects(hearthctl('user', 'delete', 'alice@localhost'), /404/);
  });

  test('every account change left its event in the outbox, and no credential is in the database in clear', async () => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const events = await client.query<{ type: string; account: string }>(
        "SELECT envelope->>'type' AS type, envelope->'payload'->>'account' AS account FROM outbox_events ORDER BY seq");
      assert.deepEqual(events.rows.map((r) => `${r.type} ${r.account}`), [
        'AccountCreated alice@localhost', 'AccountCreated bob@localhost', 'AccountPasswordChanged alice@localhost', 'AccountDeleted alice@localhost',
      ]);
      const dump = JSON.stringify((await client.query('SELECT * FROM accounts')).rows);
      assert.doesNotMatch(dump, /bob-password-1/);
    } finally {
      await client.end();
    }
  });
});
