// `npm test`: one runner (node:test) over every compiled test file of every project.
// Kinds by name: `*.unit.test.ts` beside the code, `test/*.integration.test.ts` (real broker,
// PostgreSQL, sockets), `test/*.scenario.test.ts` (named users talking XMPP).
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve, relative } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const kinds = process.argv.slice(2); // e.g. `npm test -- unit` runs one kind only
const files = [];

function collect(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path);
    else if (/\.(unit|integration|scenario)\.test\.js$/.test(entry.name)) {
      const kind = entry.name.match(/\.(unit|integration|scenario)\.test\.js$/)[1];
      if (kinds.length === 0 || kinds.includes(kind) || kinds.some((k) => path.includes(k))) files.push(path);
    }
  }
}
for (const group of ['libs', 'apps', 'tools']) {
  for (const project of readdirSync(join(root, group))) {
    const dist = join(root, group, project, 'dist');
    if (existsSync(dist)) collect(dist);
  }
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.HEARTH_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000',
    ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
