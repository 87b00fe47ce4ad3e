// `npm run migration -- <app> <name>`: writes the SQL that takes the app's database from its
// last migration to its current prisma/schema.prisma, as a new migration folder.
//
// Each migration folder keeps the schema it leads to (`schema.prisma`), and the diff runs
// between that snapshot and the current schema. Prisma's usual ways (`--from-migrations`,
// `--from-schema-datasource`) cannot work offline: with a driver adapter the wasm schema engine
// cannot read PostgreSQL's `name` type (prisma/orm#27403). It still needs a live database to
// connect to, so a throwaway embedded PostgreSQL is started.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const { startEmbeddedPostgres } = require(join(root, 'libs/database/dist/src/index.js'));

const [app, name] = process.argv.slice(2);
if (!app || !name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run migration -- <app> <snake_case_name>');
  process.exit(2);
}
const appDir = join(root, 'apps', app);
const port = await new Promise((ok) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
const dir = mkdtempSync(join(tmpdir(), 'hearth-migration-'));
const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port });
try {
  const url = await server.createDatabase('scratch');
  const migrationsDir = join(appDir, 'prisma/migrations');
  const last = existsSync(migrationsDir)
    ? readdirSync(migrationsDir).filter((f) => existsSync(join(migrationsDir, f, 'schema.prisma'))).sort().at(-1)
    : undefined;
  const from = last ? ['--from-schema-datamodel', join(migrationsDir, last, 'schema.prisma')] : ['--from-empty'];
  const sql = execFileSync(join(root, 'node_modules/.bin/prisma'),
    ['migrate', 'diff', ...from, '--to-schema-datamodel', 'prisma/schema.prisma', '--script'],
    { cwd: appDir, env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (!/\b(CREATE|ALTER|DROP)\b/.test(sql)) {
    console.log('schema and migrations already agree: nothing to write');
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const folder = join(appDir, 'prisma/migrations', `${stamp}_${name}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'migration.sql'), sql);
    copyFileSync(join(appDir, 'prisma/schema.prisma'), join(folder, 'schema.prisma'));
    console.log(`wrote ${folder}/migration.sql`);
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
