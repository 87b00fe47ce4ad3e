import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { applyMigrations, resetDatabase, startEmbeddedPostgres, type RunningPostgres } from '../src';

// The embedded server's user is `hearth`, so PostgreSQL's default search path `"$user", public`
// would put tables in a schema named `hearth` if one existed: the case these tests guard.
const dir = mkdtempSync(join(tmpdir(), 'hearth-migrations-'));
const migrationsDir = join(dir, 'migrations');
let postgres: RunningPostgres;
let databases = 0;

// What `prisma migrate diff` writes: unqualified names, the schema left to the search path.
const INIT = `-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";
CREATE TABLE "consumer_checkpoints" ("consumer" TEXT NOT NULL, "topic" TEXT NOT NULL, "partition" INTEGER NOT NULL,
  "next_offset" BIGINT NOT NULL, CONSTRAINT "consumer_checkpoints_pkey" PRIMARY KEY ("consumer", "topic", "partition"));
CREATE TABLE "notes" ("id" TEXT NOT NULL, "body" TEXT NOT NULL, CONSTRAINT "notes_pkey" PRIMARY KEY ("id"));
CREATE INDEX "notes_body_idx" ON "notes"("body");
`;
const SECOND = `ALTER TABLE "notes" ADD COLUMN "author" TEXT;\n`;

function writeMigration(name: string, sql: string): void {
  mkdirSync(join(migrationsDir, name), { recursive: true });
  writeFileSync(join(migrationsDir, name, 'migration.sql'), sql);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** schema of every table in the database, by table name. */
async function tableSchemas(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`);
    return Object.fromEntries(rows.map((r) => [r.name, r.schema]));
  });
}

before(async () => {
  writeMigration('20260101000000_init', INIT);
  postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort() });
});
after(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const freshDatabase = () => postgres.createDatabase(`migrations_${++databases}`);

test('the service tables land in public and the bookkeeping in hearth_meta, even though the user is named hearth', async () => {
  const url = await freshDatabase();
  assert.deepEqual(await applyMigrations({ databaseUrl: url, migrationsDir }), ['20260101000000_init']);

  assert.deepEqual(await tableSchemas(url), { consumer_checkpoints: 'public', migrations: 'hearth_meta', notes: 'public' });
  const schemas = await withClient(url, async (c) => (await c.query<{ nspname: string }>(
    "SELECT nspname FROM pg_namespace WHERE nspname IN ('hearth', 'hearth_meta')")).rows.map((r) => r.nspname));
  assert.deepEqual(schemas, ['hearth_meta'], 'no schema named like the user, so "$user" on the search path stays empty');
  assert.deepEqual(await applyMigrations({ databaseUrl: url, migrationsDir }), [], 'a second start applies nothing');
});

test('a database migrated by an earlier version (bookkeeping and tables in schema hearth) is adopted with its data', async () => {
  const url = await freshDatabase();
  // What earlier versions produced: hearth.migrations, and the tables in hearth through "$user".
  await withClient(url, async (client) => {
    await client.query(`CREATE SCHEMA hearth;
      CREATE TABLE hearth.migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    await client.query('BEGIN');
    await client.query(INIT);
    await client.query(`INSERT INTO notes (id, body) VALUES ('n1', 'kept')`);
    await client.query(`INSERT INTO hearth.migrations (name, checksum, applied_at) VALUES ('20260101000000_init', $1, '2026-01-01T00:00:00Z')`,
      [createHash('sha256').update(INIT).digest('hex')]);
    await client.query('COMMIT');
  });
  assert.equal((await tableSchemas(url)).notes, 'hearth', 'the set-up reproduces the old layout');

  writeMigration('20260102000000_author', SECOND);
  try {
    assert.deepEqual(await applyMigrations({ databaseUrl: url, migrationsDir }), ['20260102000000_author'],
      'the already applied migration is recognised from the adopted records; only the new one runs');
  } finally {
    rmSync(join(migrationsDir, '20260102000000_author'), { recursive: true });
  }
  assert.deepEqual(await tableSchemas(url), { consumer_checkpoints: 'public', migrations: 'hearth_meta', notes: 'public' });
  await withClient(url, async (client) => {
    const notes = await client.query('SELECT id, body, author FROM public.notes');
    assert.deepEqual(notes.rows, [{ id: 'n1', body: 'kept', author: null }]);
    const applied = await client.query<{ name: string; applied_at: Date }>('SELECT name, applied_at FROM hearth_meta.migrations ORDER BY name');
    assert.deepEqual(applied.rows.map((r) => r.name), ['20260101000000_init', '20260102000000_author']);
    assert.equal(applied.rows[0]!.applied_at.toISOString(), '2026-01-01T00:00:00.000Z', 'the original record is moved, not re-created');
    const legacy = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'hearth'");
    assert.equal(legacy.rowCount, 0, 'the emptied legacy schema is dropped');
  });
});

test('a changed migration is still refused', async () => {
  const url = await freshDatabase();
  await applyMigrations({ databaseUrl: url, migrationsDir });
  writeMigration('20260101000000_init', `${INIT}-- edited\n`);
  try {
    await assert.rejects(applyMigrations({ databaseUrl: url, migrationsDir }), /was changed after it was applied/);
  } finally {
    writeMigration('20260101000000_init', INIT);
  }
});

test('resetDatabase empties a migrated database, so the next start migrates it again', async () => {
  const url = await freshDatabase();
  await applyMigrations({ databaseUrl: url, migrationsDir });
  await resetDatabase(url);
  assert.deepEqual(await tableSchemas(url), {});
  assert.deepEqual(await applyMigrations({ databaseUrl: url, migrationsDir }), ['20260101000000_init']);
});
