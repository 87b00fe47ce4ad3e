import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const MAIN = resolve(__dirname, '../../src/main.js');
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';
export const JWT_ISSUER = 'https://product.example';
export const JWT_AUDIENCE = 'hearth-chat';

export interface GatewayProcess {
  pid: number;
  ports: { c2s: number; c2sTls: number; http: number; https: number };
  certFile: string;
  dataDir: string;
  /** Log lines (parsed JSON) the gateway wrote so far. */
  logs: Array<Record<string, unknown>>;
  adminUrl: string;
  /** Resident memory of the gateway process, from /proc. */
  rssBytes(): number;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  createUser(jid: string, password: string): Promise<void>;
  token(jid: string, ttlSeconds?: number): Promise<string>;
  stop(): Promise<number | null>;
}

/**
 * Spawns the compiled gateway (port 0 everywhere, a fresh data directory, in-memory stores unless
 * DATABASE_URL is passed) and resolves once it logged "gateway listening" with its ports.
 */
export async function startGatewayProcess(env: Record<string, string> = {}, options: { dataDir?: string } = {}): Promise<GatewayProcess> {
  // A given data directory is kept (a restart reuses its certificate); a fresh one is removed on stop.
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'hearth-gateway-'));
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', MAIN], {
    env: {
      PATH: process.env.PATH,
      HEARTH_DATA_DIR: dataDir,
      HEARTH_GATEWAY_C2S_PORT: '0',
      HEARTH_GATEWAY_C2S_TLS_PORT: '0',
      HEARTH_GATEWAY_HTTP_PORT: '0',
      HEARTH_GATEWAY_HTTPS_PORT: '0',
      HEARTH_GATEWAY_BIND_HOST: '127.0.0.1',
      HEARTH_ADMIN_TOKEN: ADMIN_TOKEN,
      HEARTH_JWT_SECRET: JWT_SECRET,
      HEARTH_JWT_ISSUER: JWT_ISSUER,
      HEARTH_JWT_AUDIENCE: JWT_AUDIENCE,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const listening = await new Promise<Record<string, unknown>>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in time\n${stderr}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'gateway listening') {
        clearTimeout(timer);
        resolveReady(entry);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening\n${stderr}`));
    });
  });

  const ports = { c2s: Number(listening.c2s), c2sTls: Number(listening.c2sTls), http: Number(listening.http), https: Number(listening.https) };
  const adminUrl = `http://127.0.0.1:${ports.http}`;
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    pid: child.pid!,
    ports,
    certFile: String(listening.certFile),
    dataDir,
    logs,
    adminUrl,
    rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    admin,
    async createUser(jid, password) {
      const { status, body } = await admin('POST', '/admin/users', { jid, password });
      if (status !== 201) throw new Error(`creating ${jid} failed: ${status} ${JSON.stringify(body)}`);
    },
    async token(jid, ttlSeconds = 600) {
      const { status, body } = await admin('POST', '/admin/tokens', { jid, ttlSeconds });
      if (status !== 201) throw new Error(`token for ${jid} failed: ${status} ${JSON.stringify(body)}`);
      return (body as { token: string }).token;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
