import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Logger } from '@hearth/runtime';

/**
 * Applies a service's checked-in Prisma migrations (`prisma/migrations/<name>/migration.sql`,
 * authored with `prisma migrate diff`) in name order, each in its own transaction, and records
 * them with a checksum so a changed migration is refused instead of silently skipped.
 *
 * Why not `prisma migrate deploy`: with driver adapters (the only offline option) its wasm
 * schema engine cannot read PostgreSQL's `name` type through @prisma/adapter-pg
 * (prisma/orm#27403), so it fails on every database.
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
    // Its own schema, so `prisma migrate diff` against the public schema never sees it.
    await client.query(`CREATE SCHEMA IF NOT EXISTS hearth;
      CREATE TABLE IF NOT EXISTS hearth.migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Map<string, string>(
      (await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM hearth.migrations')).rows.map(
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
        await client.query('INSERT INTO hearth.migrations (name, checksum) VALUES ($1, $2)', [
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
