/**
 * Gateway benchmark: spawns the compiled gateway, creates accounts, then logs clients in over
 * direct TLS with SCRAM-SHA-256 and resource binding, in steps up to each target (default
 * 1000, 5000, 10000), keeping every connection open and idle. For each step it prints the login
 * rate and the gateway's resident memory per idle authenticated connection.
 *
 *   npm run bench -w @hearth/bench-gateway -- [targets…] [--concurrency 200] [--resume]
 *
 * The client is deliberately minimal (raw TLS, regular expressions over the server's own output)
 * so the benchmark measures the gateway, not an XMPP library.
 *
 * Each step runs two passes over its new accounts. The untimed first pass ("salts learnt") opens a
 * TLS stream per account, reads the salt and iteration count from SCRAM's server-first message,
 * derives SaltedPassword with PBKDF2 (RFC 5802 §3, 4096 iterations) into a cache keyed by salt and
 * iteration count, then sends `<abort/>` and closes. The timed second pass ("logins/s") is complete
 * logins that reuse the cached SaltedPassword, as real clients do after their first login
 * (XMPPFramework, Conversations and Gajim all cache it), so a login costs the client only HMACs
 * and the figures measure the gateway rather than the benchmark's own PBKDF2. Every connection
 * does a full TLS handshake unless --resume is given, in which case the timed logins resume the
 * TLS session (RFC 8446 §2.2 ticket) the first pass received, as a reconnecting client does; the
 * trust store (one SecureContext) is built once, as in a client process. The second pass's connections stay open and idle for the memory
 * figures, which therefore also include whatever heap the first pass's closed streams left behind
 * (an upper bound per connection).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createSecureContext } from 'node:tls';
import { RawXmppConnection } from '@hearth/testing';

const GATEWAY = resolve(__dirname, '../../../../apps/gateway/dist/src/main.js');
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const PASSWORD = 'bench-password';

const args = process.argv.slice(2);
const concurrencyAt = args.indexOf('--concurrency');
const CONCURRENCY = concurrencyAt >= 0 ? Number(args[concurrencyAt + 1]) : 200;
/** --resume: timed logins resume the TLS session of the first pass (a reconnecting client). */
const RESUME = args.includes('--resume');
const targets = args.filter((a, i) => /^\d+$/.test(a) && (concurrencyAt < 0 || i !== concurrencyAt + 1)).map(Number);
const TARGETS = targets.length > 0 ? targets : [1000, 5000, 10000];

interface Gateway {
  pid: number;
  ports: { c2sTls: number; http: number };
  cert: string;
  stop(): Promise<void>;
}

async function startGateway(dataDir: string): Promise<Gateway> {
  // BENCH_GATEWAY_NODE_OPTIONS passes flags to the gateway's node, e.g. "--cpu-prof" to profile it.
  const nodeFlags = (process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, GATEWAY], {
    env: {
      PATH: process.env.PATH, HEARTH_DATA_DIR: dataDir, HEARTH_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info',
      HEARTH_GATEWAY_C2S_PORT: '0', HEARTH_GATEWAY_C2S_TLS_PORT: '0', HEARTH_GATEWAY_HTTP_PORT: '0', HEARTH_GATEWAY_HTTPS_PORT: '0',
      HEARTH_GATEWAY_BIND_HOST: '127.0.0.1', HEARTH_GATEWAY_AUTH_TIMEOUT_MS: '120000',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
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
      child.once('exit', () => done());
      child.kill('SIGTERM');
    }),
  };
}

/** User+system CPU seconds the process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

async function createAccounts(gateway: Gateway, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const response = await fetch(`http://127.0.0.1:${gateway.ports.http}/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jid: `bench${i}@localhost`, password: PASSWORD }),
      });
      if (response.status !== 201) throw new Error(`account ${i}: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** TLS sessions (tickets) from the first pass, per username, for --resume. */
const tlsSessions = new Map<string, Buffer>();

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-gateway-'));
  const gateway = await startGateway(dataDir);
  const clients: RawXmppConnection[] = [];
  const max = Math.max(...TARGETS);
  try {
    let started = Date.now();
    await createAccounts(gateway, 0, max);
    console.log(`created ${max} accounts in ${((Date.now() - started) / 1000).toFixed(1)} s (server-side PBKDF2 for SHA-1 and SHA-256)`);
    await new Promise((r) => setTimeout(r, 1000));
    const baseline = rssBytes(gateway.pid);
    console.log(`gateway RSS before connections: ${(baseline / 2 ** 20).toFixed(1)} MiB`);
    console.log('connections | salts learnt/s | logins/s (step) | gateway CPU ms/login | bench CPU ms/login | gateway RSS MiB | RSS per connection KiB');
    const trust = createSecureContext({ ca: gateway.cert }); // built once, as a client process does
    for (const target of TARGETS.sort((a, b) => a - b)) {
      const from = clients.length;
      /** Runs `step` for bench<from>..bench<target-1>, CONCURRENCY at a time; returns the clients. */
      const forEachAccount = async (step: (client: RawXmppConnection, username: string) => Promise<void>): Promise<RawXmppConnection[]> => {
        const done: RawXmppConnection[] = [];
        let next = from;
        const worker = async () => {
          for (let i = next++; i < target; i = next++) {
            const username = `bench${i}`;
            const client = new RawXmppConnection({ port: gateway.ports.c2sTls, trust, session: RESUME ? tlsSessions.get(username) : undefined });
            if (RESUME) client.onTlsSession((ticket) => tlsSessions.set(username, ticket));
            await step(client, username);
            done.push(client);
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        return done;
      };
      // Untimed: learn each account's salt (the client's first login would derive SaltedPassword).
      started = Date.now();
      await forEachAccount((client, username) => client.learnSalt(username, PASSWORD));
      const learnSeconds = (Date.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, 1000)); // let the gateway drop those streams

      started = Date.now();
      const gatewayCpu = cpuSeconds(gateway.pid);
      const benchCpu = process.cpuUsage();
      const logins = await forEachAccount((client, username) => client.login(username, PASSWORD));
      clients.push(...logins);
      const resumedLogins = logins.filter((client) => client.tlsSessionReused).length;
      const seconds = (Date.now() - started) / 1000;
      const spentByGateway = cpuSeconds(gateway.pid) - gatewayCpu;
      const spent = process.cpuUsage(benchCpu);
      const spentByBench = (spent.user + spent.system) / 1e6;
      await new Promise((r) => setTimeout(r, 2000)); // let allocation settle
      const rss = rssBytes(gateway.pid);
      const perLogin = (cpu: number) => ((cpu * 1000) / (target - from)).toFixed(2).padStart(20);
      console.log(`${String(target).padStart(11)} | ${((target - from) / learnSeconds).toFixed(0).padStart(14)} | ${((target - from) / seconds).toFixed(0).padStart(15)} | ${perLogin(spentByGateway)} | ${perLogin(spentByBench).slice(2)} | ${(rss / 2 ** 20).toFixed(1).padStart(15)} | ${((rss - baseline) / target / 1024).toFixed(1).padStart(22)}${RESUME ? ` | ${resumedLogins} TLS sessions resumed` : ''}`);
    }
  } finally {
    for (const client of clients) client.close();
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
