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
import { GatewayDatabase } from '../src/database/gateway-database';
import { PostgresDedupeStore } from '../src/modules/messaging/dedupe-store';

describe('message dedupe keys in PostgreSQL', () => {
  let postgres: TestPostgres;
  let pool: Pool;
  let store: PostgresDedupeStore;
  let databaseUrl: string;

  before(async () => {
    postgres = await startPostgres();
    databaseUrl = await postgres.freshDatabase('gateway_dedupe');
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

  test('confirmations ride along with the next claims; two gateways claiming one key at once: one is the message, the other sees its stanza id', async () => {
    const pending = claim('m4', 'sid-4');
    assert.deepEqual(await store.claim([pending]), [{ kind: 'new' }]);
    assert.deepEqual(await store.claim([claim('m5', 'sid-5')], [{ sender: 'alice@localhost', clientId: 'm4' }]), [{ kind: 'new' }]);
    assert.deepEqual(await store.claim([claim('m4', 'sid-4-resent')]), [{ kind: 'duplicate', stanzaId: 'sid-4', acceptedAt: pending.acceptedAt }]);

    const otherPool = new Pool({ connectionString: databaseUrl, max: 1 });
    try {
      const otherGateway = new PostgresDedupeStore(otherPool);
      const outcomes = (await Promise.all([store.claim([claim('m6', 'sid-6a')]), otherGateway.claim([claim('m6', 'sid-6b')])])).flat();
      assert.equal(outcomes.filter((o) => o.kind === 'new').length, 1, 'one of them is the message');
      const other = outcomes.find((o) => o.kind !== 'new');
      assert.equal(other?.kind, 'unconfirmed');
      const { rows } = await pool.query<{ stanza_id: string }>("SELECT stanza_id FROM message_dedupe WHERE client_id = 'm6'");
      assert.deepEqual(rows.map((r) => r.stanza_id), [other?.kind === 'unconfirmed' ? other.stanzaId : ''], 'the other is told the stanza id that went in');
    } finally {
      await otherPool.end();
    }
  });

  test("through the gateway's dedupe connections, a table growing from empty is never scanned whole for a batch", async () => {
    // A new installation: the statements are planned while the table is empty, then it grows.
    const freshUrl = await postgres.freshDatabase('gateway_dedupe_young');
    await applyMigrations({ databaseUrl: freshUrl, migrationsDir: join(__dirname, '../../prisma/migrations') });
    const db = new GatewayDatabase(freshUrl);
    try {
      const gateway = new PostgresDedupeStore(db.dedupePool);
      // Building the table's indexes scanned it (empty) once each.
      const scans = async () => Number((await db.dedupePool.query<{ n: string }>("SELECT seq_scan AS n FROM pg_stat_user_tables WHERE relname = 'message_dedupe'")).rows[0]!.n);
      const before = await scans();
      let confirms: { sender: string; clientId: string }[] = [];
      for (let from = 0; from < 8_000; from += 4) {
        const claims = Array.from({ length: 4 }, (_, i) => ({ sender: `user${(from + i) % 100}@localhost`, clientId: `m-${from + i}`, stanzaId: `sid-${from + i}`, acceptedAt: new Date() }));
        await gateway.claim(claims, confirms);
        confirms = claims.map(({ sender, clientId }) => ({ sender, clientId }));
      }
      await gateway.claim([claim('m-1', 'sid-resent')]); // a resend: its key is read back
      // The statistics collector hears of a backend's scans within a second of its transaction.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      assert.equal(await scans() - before, 0);
    } finally {
      await db.close();
    }
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
