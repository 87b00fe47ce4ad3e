/**
 * Runs apps/broker (the project's Kafka-protocol broker) as a child process for integration
 * tests: the compiled `apps/broker/dist/src/main.js`, spawned with the Node that runs the tests,
 * never imported. The child is killed when the test process exits, whatever happens.
 *
 *   const broker = await startBroker();
 *   const kafka = new Kafka({ brokers: broker.brokers });
 *   ...
 *   after(() => broker.dispose());
 *
 * Set HEARTH_TEST_BROKER_LOGS=1 to see the broker's log lines on stderr.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { endWithTestProcess } from './child';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const BROKER_MAIN = path.join(REPO_ROOT, 'apps/broker/dist/src/main.js');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** Log lines kept to explain a failed start. */
const KEPT_LINES = 1000;

export interface StartBrokerOptions {
  /** Data directory; a fresh temporary one by default (removed by dispose()). */
  dataDir?: string;
  /** Port to listen on; 0 (any free port) by default. */
  port?: number;
  /** Extra environment, e.g. { HEARTH_BROKER_DEFAULT_PARTITIONS: '3' }. */
  env?: Record<string, string>;
}

export interface RunningBroker {
  readonly port: number;
  /** For kafkajs `brokers` / librdkafka `bootstrap.servers`: ['127.0.0.1:port']. */
  readonly brokers: string[];
  readonly dataDir: string;
  readonly pid: number;
  /** The broker's recent log lines (JSON), newest last. */
  logs(): string[];
  /** Graceful stop (SIGTERM: stop accepting, flush, exit). */
  stop(): Promise<void>;
  /** Crash (SIGKILL), for recovery tests. */
  kill(): Promise<void>;
  /** Stops (if running) and starts again on the same port and data directory. */
  restart(): Promise<RunningBroker>;
  /** Stops and removes the data directory if startBroker created it. */
  dispose(): Promise<void>;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<RunningBroker> {
  if (!existsSync(BROKER_MAIN)) throw new Error(`${BROKER_MAIN} is missing: run \`npm run build\` first`);
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'hearth-broker-'));
  return launch(dataDir, options.port ?? 0, options.env ?? {}, ownDir);
}

async function launch(dataDir: string, port: number, env: Record<string, string>, ownDir: boolean): Promise<RunningBroker> {
  // The "broker listening" line is logged at info: never let a quieter level hide it.
  const wanted = env.LOG_LEVEL ?? process.env.LOG_LEVEL;
  const level = wanted === 'debug' || wanted === 'trace' ? wanted : 'info';
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', BROKER_MAIN, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir],
    { cwd: REPO_ROOT, env: { ...process.env, ...env, LOG_LEVEL: level }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  // The IPC channel makes the broker stop when this process dies, even by SIGKILL;
  // endWithTestProcess covers a normal exit that forgot to stop it.
  child.channel?.unref();
  endWithTestProcess(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  const echo = process.env.HEARTH_TEST_BROKER_LOGS === '1';
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    if (echo) process.stderr.write(`[broker ${child.pid}] ${line}\n`);
  };

  const listeningPort = await new Promise<number>((resolve, reject) => {
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(new Error(`broker did not start (${why}); its output:\n${lines.join('\n')}`));
    };
    const timer = setTimeout(() => fail(`no "broker listening" line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    readline.createInterface({ input: child.stderr! }).on('line', keep);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      if (!line.includes('broker listening')) return;
      try {
        const parsed = JSON.parse(line) as { msg?: string; port?: number };
        if (parsed.msg === 'broker listening' && typeof parsed.port === 'number') {
          clearTimeout(timer);
          resolve(parsed.port);
        }
      } catch {
        /* not a log line */
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited with ${signal ?? code}`);
    });
  });

  let running = true;
  void exited.then(() => (running = false));
  const signal = async (sig: NodeJS.Signals) => {
    if (!running) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  const broker: RunningBroker = {
    port: listeningPort,
    brokers: [`127.0.0.1:${listeningPort}`],
    dataDir,
    pid: child.pid!,
    logs: () => [...lines],
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM');
      return launch(dataDir, listeningPort, env, ownDir);
    },
    async dispose() {
      await signal('SIGTERM');
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return broker;
}
