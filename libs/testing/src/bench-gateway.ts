/**
 * The gateway as benchmarks run it (tools/bench-gateway, tools/bench-messaging): the compiled
 * main spawned with its log on a pipe, plus the process figures they print.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface BenchGateway {
  pid: number;
  ports: { c2sTls: number; http: number };
  /** The development certificate (PEM) the gateway generated, for clients to trust. */
  cert: string;
  stop(): Promise<void>;
}

/**
 * Spawns `main` with ports 0, a fresh data directory (removed on stop) and `env`, and resolves
 * once it logged "gateway listening". BENCH_GATEWAY_NODE_OPTIONS passes flags to its node (e.g.
 * `--cpu-prof`), and any HEARTH_GATEWAY_* in the caller's environment passes through, so a
 * setting can be tried without editing the benchmark.
 */
export async function startBenchGateway(main: string, adminToken: string, env: Record<string, string> = {}): Promise<BenchGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-gateway-'));
  const nodeFlags = (process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, main], {
    env: {
      PATH: process.env.PATH, HEARTH_DATA_DIR: dataDir, HEARTH_ADMIN_TOKEN: adminToken, LOG_LEVEL: 'info',
      HEARTH_GATEWAY_C2S_PORT: '0', HEARTH_GATEWAY_C2S_TLS_PORT: '0', HEARTH_GATEWAY_HTTP_PORT: '0', HEARTH_GATEWAY_HTTPS_PORT: '0',
      HEARTH_GATEWAY_BIND_HOST: '127.0.0.1', HEARTH_GATEWAY_AUTH_TIMEOUT_MS: '120000', HEARTH_DOMAINS: 'localhost',
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('HEARTH_GATEWAY_'))),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const listening = await new Promise<Record<string, unknown>>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`gateway exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'gateway listening') ok(entry);
      } catch {
        /* not a log line */
      }
    });
  });
  return {
    pid: child.pid!,
    ports: { c2sTls: Number(listening.c2sTls), http: Number(listening.http) },
    cert: readFileSync(String(listening.certFile), 'utf8'),
    stop: () => new Promise((done) => {
      child.once('exit', () => {
        rmSync(dataDir, { recursive: true, force: true });
        done();
      });
      child.kill('SIGTERM');
    }),
  };
}

/** Creates the accounts `jids` with `password` through the admin API, 16 at a time. */
export async function createBenchAccounts(gateway: BenchGateway, adminToken: string, jids: string[], password: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < jids.length; i = next++) {
      const response = await fetch(`http://127.0.0.1:${gateway.ports.http}/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jid: jids[i], password }),
      });
      if (response.status !== 201) throw new Error(`account ${jids[i]}: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** Resident memory of the process, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}
