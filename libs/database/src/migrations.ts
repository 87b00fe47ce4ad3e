import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Logger } from '@hearth/runtime';

/** Where applyMigrations records what it applied (not `public`, not named like a user: see below). */
export const META_SCHEMA = 'hearth_meta';
const BOOKKEEPING = `${META_SCHEMA}.migrations`;
/** The bookkeeping schema of earlier versions, adopted on first contact. */
const LEGACY_SCHEMA = 'hearth';

/**
 * Applies a service's checked-in Prisma migrations (`prisma/migrations/<name>/migration.sql`,
 * authored with `prisma migrate diff`) in name order, each in its own transaction, and records
 * them with a checksum so a changed migration is refused instead of silently skipped.
 *
 * Why not `prisma migrate deploy`: with driver adapters (the only offline option) its wasm
 * schema engine cannot read PostgreSQL's `name` type through @prisma/adapter-pg
 * (prisma/orm#27403), so it fails on every database.
 *
 * The bookkeeping lives in its own schema, `hearth_meta`, so `prisma migrate diff` against the
 * public schema never sees it. It must not be named like a database user: PostgreSQL's default
 * search path is `"$user", public`, so a schema named after the user (the embedded server's user
 * is `hearth`) would receive every table the migrations create instead of `public`, where
 * Prisma looks. Earlier versions made exactly that mistake (`hearth.migrations`); databases
 * from then are adopted on first contact (see adoptLegacyBookkeeping).
 */
export async function applyMigrations(options: {
  databaseUrl: string;
  migrationsDir: string;
  logger?: Logger;
}): Promise<string[]> {
  const migrations = listMigrations(options.migrationsDir);
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    // Several replicas may start at once: one applies, the others wait and find nothing to do.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['hearth-migrations']);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${META_SCHEMA};
      CREATE TABLE IF NOT EXISTS ${BOOKKEEPING} (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    await adoptLegacyBookkeeping(client, options.logger);
    const applied = new Map<string, string>(
      (await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${BOOKKEEPING}`)).rows.map(
        (row) => [row.name, row.checksum],
      ),
    );
    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      const known = applied.get(migration.name);
      if (known !== undefined) {
        if (known !== migration.checksum) {
          throw new Error(`migration ${migration.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${BOOKKEEPING} (name, checksum) VALUES ($1, $2)`, [
          migration.name,
          migration.checksum,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      options.logger?.info({ migration: migration.name }, 'migration applied');
      newlyApplied.push(migration.name);
    }
    return newlyApplied;
  } finally {
    await client.end();
  }
}

/**
 * A database migrated by an earlier version keeps its bookkeeping in `hearth.migrations` and,
 * because `"$user"` comes first on the search path, the service tables in schema `hearth` too.
 * Moves the records to META_SCHEMA and the tables (with their indexes and constraints) to
 * `public`, then drops the emptied schema, all in one transaction, so existing data (./.hearth)
 * keeps working. A table that exists in both schemas is left where it is and reported: moving
 * it would need a decision about which data wins. Only runs when `hearth.migrations` exists,
 * so a schema `hearth` that some operator created for other purposes is never touched.
 */
async function adoptLegacyBookkeeping(client: Client, logger?: Logger): Promise<void> {
  const legacy = await client.query<{ found: string | null }>(`SELECT to_regclass('${LEGACY_SCHEMA}.migrations')::text AS found`);
  if (legacy.rows[0]?.found == null) return;
  await client.query('BEGIN');
  try {
    await client.query(`INSERT INTO ${BOOKKEEPING} (name, checksum, applied_at)
      SELECT name, checksum, applied_at FROM ${LEGACY_SCHEMA}.migrations ON CONFLICT (name) DO NOTHING`);
    await client.query(`DROP TABLE ${LEGACY_SCHEMA}.migrations`);
    const tables = await client.query<{ name: string; clash: boolean }>(
      `SELECT c.relname AS name, to_regclass(format('public.%I', c.relname)) IS NOT NULL AS clash
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`, [LEGACY_SCHEMA]);
    const moved: string[] = [];
    for (const table of tables.rows) {
      if (table.clash) {
        logger?.warn({ table: table.name }, `table exists in schema ${LEGACY_SCHEMA} and in public; left in ${LEGACY_SCHEMA}`);
        continue;
      }
      await client.query(`ALTER TABLE ${LEGACY_SCHEMA}.${quoteIdent(table.name)} SET SCHEMA public`);
      moved.push(table.name);
    }
    const left = await client.query(`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
      UNION ALL SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typrelid = 0 AND t.typelem = 0
      LIMIT 1`, [LEGACY_SCHEMA]);
    if (left.rowCount === 0) await client.query(`DROP SCHEMA ${LEGACY_SCHEMA}`);
    await client.query('COMMIT');
    logger?.info({ moved, from: LEGACY_SCHEMA, to: 'public', bookkeeping: BOOKKEEPING }, 'adopted migration bookkeeping of an earlier version');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new Error(`could not adopt the legacy ${LEGACY_SCHEMA}.migrations bookkeeping: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Makes a service database empty again, as if it had never been migrated: its tables, its
 * migration records (current and legacy schema). The service re-applies its migrations at start
 * (tools/replay rebuilds a projection this way).
 */
export async function resetDatabase(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;
      DROP SCHEMA IF EXISTS ${META_SCHEMA} CASCADE;
      DO $$ BEGIN IF to_regclass('${LEGACY_SCHEMA}.migrations') IS NOT NULL THEN DROP SCHEMA ${LEGACY_SCHEMA} CASCADE; END IF; END $$;`);
  } finally {
    await client.end();
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

function listMigrations(dir: string): { name: string; sql: string; checksum: string }[] {
  if (!existsSync(dir)) throw new Error(`no migrations folder at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Creates the database named in the URL if it does not exist yet (connecting to `postgres`). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}
