/**
 * Test harness: spawns the compiled read-state service (dist/src/main.js) against a broker and a
 * database, waits for /readyz, and gives a gRPC client for hearth.read_state.ReadState.
 * (A generic `startService({ app, env })` belongs in @hearth/testing; until it exists this one
 * lives here.)
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

export interface RunningReadState {
  httpPort: number;
  grpcPort: number;
  url: string;
  client: ReadStateClient;
  logs(): string[];
  /** Resolves with the first log line (parsed) for which `match` is true, now or later. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startReadState(env: Record<string, string>): Promise<RunningReadState> {
  const grpcPort = await freePort();
  const child = spawn(process.execPath, ['--enable-source-maps', MAIN], {
    env: { ...process.env, HEARTH_HTTP_PORT: '0', HEARTH_GRPC_PORT: String(grpcPort), LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    process.off('exit', killOnExit);
    resolve();
  }));
  const lines: string[] = [];
  const parsed: Record<string, unknown>[] = [];
  const watchers = new Set<(line: Record<string, unknown>) => void>();
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    if (process.env.HEARTH_TEST_SERVICE_LOGS === '1') process.stderr.write(`[read-state] ${line}\n`);
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      parsed.push(record);
      for (const watch of watchers) watch(record);
    } catch {
      /* not a log line */
    }
  };
  readline.createInterface({ input: child.stdout! }).on('line', keep);
  readline.createInterface({ input: child.stderr! }).on('line', keep);

  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = START_TIMEOUT_MS) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = parsed.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`no matching read-state log line within ${timeoutMs} ms; last lines:\n${lines.slice(-30).join('\n')}`));
      }, timeoutMs);
      const watch = (line: Record<string, unknown>) => {
        if (!match(line)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(line);
      };
      watchers.add(watch);
    });

  let listening: Record<string, unknown>;
  try {
    listening = await Promise.race([
      waitForLog((l) => l.msg === 'read-state listening'),
      exited.then(() => { throw new Error(`read-state exited during start:\n${lines.join('\n')}`); }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const httpPort = Number(listening.httpPort);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`read-state not ready in time:\n${lines.slice(-30).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const client = readStateClient(`127.0.0.1:${grpcPort}`);
  return {
    httpPort, grpcPort, url, client,
    logs: () => [...lines],
    waitForLog,
    async stop() {
      client.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// --- gRPC client (proto-loader, keepCase as the server) ---

export interface MoveReadPointerRequest { user: string; peer: string; stanza_id?: string; message_id?: string; moved_by: string }
export interface MoveReadPointerReply { moved: boolean; pointer: string; unread: number; total: number }
export interface UnreadReply { total: number; chats: { peer: string; unread: number; pointer: string }[] }
export interface DisplayedItemsReply { items: { peer: string; stanza_id: string; by: string }[] }

export interface ReadStateClient {
  moveReadPointer(request: MoveReadPointerRequest): Promise<MoveReadPointerReply>;
  getUnread(user: string): Promise<UnreadReply>;
  getDisplayedItems(user: string, peers?: string[]): Promise<DisplayedItemsReply>;
  close(): void;
}

/** A gRPC error as grpc-js gives it, with the XMPP condition from the trailers. */
export interface ReadStateCallError extends Error { code: grpc.status; condition?: string }

type Unary = (request: object, callback: (error: grpc.ServiceError | null, reply: unknown) => void) => void;

export function readStateClient(address: string): ReadStateClient {
  const definition = protoLoader.loadSync(protoPath('read-state'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    hearth: { read_state: { ReadState: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary> } };
  };
  const stub = new loaded.hearth.read_state.ReadState(address, grpc.credentials.createInsecure());
  const call = <R>(method: string, request: object) => new Promise<R>((resolve, reject) => {
    stub[method]!.call(stub, request, (error, reply) => {
      if (!error) return resolve(reply as R);
      const condition = error.metadata?.get('hearth-condition')[0];
      reject(Object.assign(error, { condition: condition === undefined ? undefined : String(condition) }));
    });
  });
  return {
    moveReadPointer: (request) => call('MoveReadPointer', request),
    getUnread: (user) => call('GetUnread', { user }),
    getDisplayedItems: (user, peers = []) => call('GetDisplayedItems', { user, peers }),
    close: () => stub.close(),
  };
}
