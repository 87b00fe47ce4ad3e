/**
 * Test harness: spawns the compiled push service (dist/src/main.js), waits for /readyz, and gives
 * a gRPC client for hearth.push.Push. (A generic `startService({ app, env })` belongs in
 * @hearth/testing; until it exists this one lives here.)
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from '@hearth/contracts';
import { freePort } from '@hearth/testing';

const MAIN = path.resolve(__dirname, '../../src/main.js');
const START_TIMEOUT_MS = 30_000;
const KEPT_LINES = 500;

export interface RunningPush {
  httpPort: number;
  grpcPort: number;
  url: string;
  client: PushClient;
  logs(): string[];
  /** SIGTERM: drain and exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

export async function startPush(env: Record<string, string>): Promise<RunningPush> {
  const grpcPort = await freePort();
  const child = spawn(process.execPath, ['--enable-source-maps', MAIN], {
    env: { ...process.env, HEARTH_HTTP_PORT: '0', HEARTH_GRPC_PORT: String(grpcPort), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    process.off('exit', killOnExit);
    resolve();
  }));
  const lines: string[] = [];
  let listening: ((line: Record<string, unknown>) => void) | undefined;
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    if (process.env.HEARTH_TEST_SERVICE_LOGS === '1') process.stderr.write(`[push] ${line}\n`);
    if (!line.includes('push listening')) return;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record.msg === 'push listening') listening?.(record);
    } catch {
      /* not a log line */
    }
  };
  readline.createInterface({ input: child.stdout! }).on('line', keep);
  readline.createInterface({ input: child.stderr! }).on('line', keep);

  let timer: NodeJS.Timeout | undefined;
  let started: Record<string, unknown>;
  try {
    started = await Promise.race([
      new Promise<Record<string, unknown>>((resolve) => (listening = resolve)),
      exited.then(() => { throw new Error(`push exited during start:\n${lines.join('\n')}`); }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`push did not start in time:\n${lines.slice(-30).join('\n')}`)), START_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const httpPort = Number(started.httpPort);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`push not ready in time:\n${lines.slice(-30).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const client = pushClient(`127.0.0.1:${grpcPort}`);
  const signal = async (sig: NodeJS.Signals) => {
    client.close();
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killTimer);
  };
  return {
    httpPort, grpcPort, url, client,
    logs: () => [...lines],
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}

export interface EnablePushRequest { actor: string; service: string; node: string; device_token: string; bundle_id: string; environment: string }

export interface PushClient {
  enablePush(request: EnablePushRequest): Promise<{ device_id: string; event_id: string }>;
  disablePush(request: { actor: string; service: string; node?: string }): Promise<{ removed: number }>;
  close(): void;
}

type Unary = (request: object, callback: (error: grpc.ServiceError | null, reply: unknown) => void) => void;

export function pushClient(address: string): PushClient {
  const definition = protoLoader.loadSync(protoPath('push'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    hearth: { push: { Push: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary> } };
  };
  const stub = new loaded.hearth.push.Push(address, grpc.credentials.createInsecure());
  const call = <R>(method: string, request: object) => new Promise<R>((resolve, reject) => {
    stub[method]!.call(stub, request, (error, reply) => {
      if (!error) return resolve(reply as R);
      const condition = error.metadata?.get('hearth-condition')[0];
      reject(Object.assign(error, { condition: condition === undefined ? undefined : String(condition) }));
    });
  });
  return {
    enablePush: (request) => call('EnablePush', request),
    disablePush: (request) => call('DisablePush', { node: '', ...request }),
    close: () => stub.close(),
  };
}
