// Builds the whole workspace: Prisma clients first (they are generated, git-ignored sources),
// then one incremental `tsc -b` over every project (a folder of apps/, libs/ or tools/ with a
// tsconfig.json); project references inside each tsconfig give the order.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const run = (cmd, args, cwd = root, env = process.env) => execFileSync(cmd, args, { cwd, stdio: 'inherit', env });
const bin = (name) => join(root, 'node_modules/.bin', name);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

for (const app of readdirSync(join(root, 'apps'))) {
  const appDir = join(root, 'apps', app);
  const schema = join(appDir, 'prisma/schema.prisma');
  if (!existsSync(schema)) continue;
  const generated = join(appDir, 'src/generated/prisma');
  const stale = !existsSync(generated) || statSync(schema).mtimeMs > newestMtime(generated);
  // generate never connects, but the schema's `env("DATABASE_URL")` must resolve.
  const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://generate@localhost/generate' };
  if (stale) run(bin('prisma'), ['generate', '--no-hints'], appDir, env);
}

const projects = ['libs', 'apps', 'tools'].flatMap((group) =>
  readdirSync(join(root, group))
    .map((name) => join(group, name))
    .filter((dir) => existsSync(join(root, dir, 'tsconfig.json'))),
);
run(bin('tsc'), ['-b', ...projects]);
