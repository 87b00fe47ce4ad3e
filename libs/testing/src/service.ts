/**
 * Runs a compiled service (`apps/<app>/dist/src/main.js`) as a child process for integration
 * tests and tools: spawned with the Node that runs the caller, never imported. Resolves once the
 * service logged "<app> listening" (with its ports) and answers 200 on /readyz. The child is
 * killed when the calling process exits, whatever happens.
 *
 *   const archive = await startService({ app: 'archive', env: { DATABASE_URL, HEARTH_KAFKA_BROKERS } });
 *   ...
 *   after(() => archive.stop());
 *
 * HTTP listens on port 0 unless env says otherwise; a gRPC port is picked free (gRPC servers
 * report no port bound to 0). Set HEARTH_TEST_SERVICE_LOGS=1 to see the service's log lines.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { endWithTestProcess } from './child';
import { freePort } from './ports';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const DEFAULT_START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 100;
/** Log lines kept to explain a failure. */
const KEPT_LINES = 500;

export interface StartServiceOptions {
  /** The folder name under apps/, e.g. `archive`. */
  app: string;
  env: Record<string, string>;
  startTimeoutMs?: number;
}

export interface RunningService {
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly pid: number;
  /** `http://127.0.0.1:<httpPort>` */
  readonly url: string;
  /** Recent log lines (JSON), newest last. */
  logs(): string[];
  /** Resolves with the first log line (parsed) for which `match` is true, among the kept lines or later. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Graceful stop (SIGTERM: drain, exit 0); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Crash (SIGKILL). */
  kill(): Promise<void>;
}

export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const main = path.join(REPO_ROOT, 'apps', options.app, 'dist/src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const grpcPort = options.env.HEARTH_GRPC_PORT ?? String(await freePort());
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    cwd: REPO_ROOT,
    env: { ...process.env, HEARTH_HTTP_PORT: '0', HEARTH_GRPC_PORT: grpcPort, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  endWithTestProcess(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    exitCode = code;
    resolve(code);
  }));
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const echo = process.env.HEARTH_TEST_SERVICE_LOGS === '1';
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    if (echo) process.stderr.write(`[${options.app} ${child.pid}] ${line}\n`);
    for (const watch of watchers) watch(line);
  };
  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = DEFAULT_START_TIMEOUT_MS) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const matching = (line: string) => {
        try {
          const record = JSON.parse(line) as Record<string, unknown>;
          return match(record) ? record : undefined;
        } catch {
          return undefined; // not a log line
        }
      };
      for (const line of lines) {
        const found = matching(line);
        if (found) return resolve(found);
      }
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`no matching ${options.app} log line within ${timeoutMs} ms; last lines:\n${lines.slice(-30).join('\n')}`));
      }, timeoutMs);
      const watch = (line: string) => {
        const found = matching(line);
        if (!found) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(found);
      };
      watchers.add(watch);
    });
  readline.createInterface({ input: child.stderr! }).on('line', keep);
  const stdout = readline.createInterface({ input: child.stdout! });
  stdout.on('line', keep);

  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const fail = (why: string): never => {
    child.kill('SIGKILL');
    throw new Error(`${options.app} did not start (${why}); its output:\n${lines.join('\n')}`);
  };
  const httpPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${options.app} listening" line within ${timeoutMs} ms`)), timeoutMs);
    stdout.on('line', (line) => {
      if (!line.includes(`${options.app} listening`)) return;
      try {
        const parsed = JSON.parse(line) as { msg?: string; httpPort?: number };
        if (parsed.msg === `${options.app} listening` && typeof parsed.httpPort === 'number') {
          clearTimeout(timer);
          resolve(parsed.httpPort);
        }
      } catch {
        /* not a log line */
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}`));
    });
  }).catch((error: Error) => fail(error.message));

  const url = `http://127.0.0.1:${httpPort}`;
  for (;;) {
    if (exitCode !== undefined) fail(`exited with ${exitCode}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) fail(`/readyz not 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }

  const signal = async (sig: NodeJS.Signals) => {
    if (exitCode !== undefined) return exitCode;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    httpPort, grpcPort: Number(grpcPort), pid: child.pid!, url,
    logs: () => [...lines],
    waitForLog,
    stop: () => signal('SIGTERM'),
    kill: async () => void (await signal('SIGKILL')),
  };
}

/** A service together with a client of its API that is closed whenever the service stops or is killed. */
export function withClient<C extends { close(): void }>(service: RunningService, client: C): RunningService & { client: C } {
  return {
    ...service,
    client,
    async stop() {
      client.close();
      return service.stop();
    },
    async kill() {
      client.close();
      await service.kill();
    },
  };
}
