/**
 * The message dedupe store on a real PostgreSQL with the gateway's migrations: what a resend
 * finds (new, duplicate, unconfirmed) and that keys past their retention are deleted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'pg';
import { applyMigrations } from '@hearth/database';
import { startPostgres, type TestPostgres } from '@hearth/testing';
import { PostgresDedupeStore } from '../src/modules/messaging/dedupe-store';

describe('message dedupe keys in PostgreSQL', () => {
  let postgres: TestPostgres;
  let pool: Pool;
  let store: PostgresDedupeStore;

  before(async () => {
    postgres = await startPostgres();
    const databaseUrl = await postgres.freshDatabase('gateway_dedupe');
    await applyMigrations({ databaseUrl, migrationsDir: join(__dirname, '../../prisma/migrations') });
    pool = new Pool({ connectionString: databaseUrl, max: 2 });
    store = new PostgresDedupeStore(pool);
  });
  after(async () => {
    await pool?.end();
    await postgres?.stop();
  });

  const claim = (clientId: string, stanzaId: string, acceptedAt = new Date()) => ({ sender: 'alice@localhost', clientId, stanzaId, acceptedAt });

  test('a first send is new; a resend before its append is confirmed is unconfirmed with the first stanza id; after, a duplicate', async () => {
    const first = claim('m1', 'sid-1', new Date('2026-11-24T10:00:00Z'));
    assert.deepEqual(await store.claim([first]), [{ kind: 'new' }]);
    assert.deepEqual(await store.claim([claim('m1', 'sid-other')]), [{ kind: 'unconfirmed', stanzaId: 'sid-1', acceptedAt: first.acceptedAt }]);
    await store.confirm([{ sender: 'alice@localhost', clientId: 'm1' }]);
    assert.deepEqual(await store.claim([claim('m1', 'sid-third')]), [{ kind: 'duplicate', stanzaId: 'sid-1', acceptedAt: first.acceptedAt }]);
    // The same key twice in one batch: one of them is the message.
    const [a, b] = await store.claim([claim('m2', 'sid-2a'), claim('m2', 'sid-2b')]);
    assert.equal([a, b].filter((outcome) => outcome!.kind === 'new').length, 1);
  });

  test('keys past their retention are deleted in batches; newer ones stay', async () => {
    const old = new Date('2026-11-01T00:00:00Z');
    await store.claim(Array.from({ length: 25 }, (_, i) => claim(`old-${i}`, `sid-old-${i}`, old)));
    await store.claim([claim('recent', 'sid-recent', new Date('2026-11-24T12:00:00Z'))]);
    const cutoff = new Date('2026-11-10T00:00:00Z');
    assert.equal(await store.prune(cutoff, 10), 10);
    assert.equal(await store.prune(cutoff, 100), 15);
    assert.equal(await store.prune(cutoff, 100), 0);
    const { rows } = await pool.query<{ client_id: string }>("SELECT client_id FROM message_dedupe WHERE client_id LIKE 'old-%' OR client_id = 'recent'");
    assert.deepEqual(rows.map((r) => r.client_id), ['recent']);
    // A resend of a pruned key is a new message again: the retention is the promise's horizon.
    assert.deepEqual(await store.claim([claim('old-0', 'sid-again')]), [{ kind: 'new' }]);
  });
});
