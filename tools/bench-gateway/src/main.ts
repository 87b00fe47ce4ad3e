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
import { createHash, createHmac, createSecretKey, pbkdf2, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
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
let resumedLogins = 0;

/** SaltedPassword per salt and iteration count (one password for every bench account). */
const saltedPasswords = new Map<string, Promise<Buffer>>();

function saltedPassword(salt: string, iterations: number): Promise<Buffer> {
  const key = `${salt}:${iterations}`;
  let salted = saltedPasswords.get(key);
  if (!salted) {
    salted = pbkdf2Async(PASSWORD, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    saltedPasswords.set(key, salted);
  }
  return salted;
}

const STREAM_HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`;

/** One client: direct TLS (XEP-0368), SCRAM-SHA-256 (RFC 7677), bind; then left idle. */
class BenchClient {
  private text = '';
  private wake: (() => void) | null = null;
  private socket!: TLSSocket;

  /** A complete login with SaltedPassword from the cache (see learnSalt). */
  async login(port: number, trust: SecureContext, username: string): Promise<void> {
    const { firstBare, serverFirst, attrs } = await this.clientFirst(port, trust, username);
    const salted = await saltedPassword(attrs.get('s')!, Number(attrs.get('i')));
    // KeyObjects as keys: Node 24's createHmac is several times slower given a Buffer key.
    const clientKey = createHmac('sha256', createSecretKey(salted)).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.get('r')}`;
    const signature = createHmac('sha256', createSecretKey(storedKey)).update(`${firstBare},${serverFirst},${withoutProof}`).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)).toString('base64');
    this.socket.write(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`${withoutProof},p=${proof}`).toString('base64')}</response>`);
    await this.expect(/<success/);
    if (this.socket.isSessionReused()) resumedLogins += 1;
    this.socket.write(STREAM_HEADER);
    await this.expect(/<\/stream:features>/);
    this.socket.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
    await this.expect(/<jid>[^<]+<\/jid>/);
    this.text = '';
    this.socket.removeAllListeners('data');
    this.socket.on('data', () => undefined); // idle: server pings would be answered by any traffic; none expected
  }

  /**
   * The untimed first pass: reads the account's salt and iteration count from server-first,
   * derives SaltedPassword into the cache, then aborts the exchange (RFC 6120 §6.4.4; an abort is
   * not a failed login) and closes.
   */
  async learnSalt(port: number, trust: SecureContext, username: string): Promise<void> {
    const { attrs } = await this.clientFirst(port, trust, username);
    await saltedPassword(attrs.get('s')!, Number(attrs.get('i')));
    this.socket.write(`<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
    await this.expect(/<failure/);
    this.close();
  }

  private async clientFirst(port: number, trust: SecureContext, username: string) {
    const session = RESUME ? tlsSessions.get(username) : undefined;
    this.socket = connect({ port, host: '127.0.0.1', servername: 'localhost', secureContext: trust, session });
    if (RESUME) this.socket.on('session', (ticket: Buffer) => tlsSessions.set(username, ticket));
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.wake?.();
    });
    this.socket.on('error', () => this.wake?.());
    this.socket.on('close', () => this.wake?.());
    this.socket.write(STREAM_HEADER);
    await this.expect(/<\/stream:features>/);
    const nonce = randomBytes(18).toString('base64');
    const firstBare = `n=${username},r=${nonce}`;
    this.socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${Buffer.from(`n,,${firstBare}`).toString('base64')}</auth>`);
    const serverFirst = Buffer.from((await this.expect(/<challenge[^>]*>([^<]+)<\/challenge>/))[1]!, 'base64').toString();
    const attrs = new Map(serverFirst.split(',').map((p) => [p[0], p.slice(2)] as const));
    return { firstBare, serverFirst, attrs };
  }

  private async expect(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const match = pattern.exec(this.text);
      if (match) {
        this.text = this.text.slice(match.index + match[0].length);
        return match;
      }
      if (this.socket.destroyed) throw new Error(`connection closed while waiting for ${pattern}: ${this.text.slice(-300)}`);
      await new Promise<void>((done) => (this.wake = done));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-gateway-'));
  const gateway = await startGateway(dataDir);
  const clients: BenchClient[] = [];
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
      const forEachAccount = async (step: (client: BenchClient, username: string) => Promise<void>): Promise<BenchClient[]> => {
        const done: BenchClient[] = [];
        let next = from;
        const worker = async () => {
          for (let i = next++; i < target; i = next++) {
            const client = new BenchClient();
            await step(client, `bench${i}`);
            done.push(client);
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        return done;
      };
      // Untimed: learn each account's salt (the client's first login would derive SaltedPassword).
      started = Date.now();
      await forEachAccount((client, username) => client.learnSalt(gateway.ports.c2sTls, trust, username));
      const learnSeconds = (Date.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, 1000)); // let the gateway drop those streams

      resumedLogins = 0;
      started = Date.now();
      const gatewayCpu = cpuSeconds(gateway.pid);
      const benchCpu = process.cpuUsage();
      clients.push(...(await forEachAccount((client, username) => client.login(gateway.ports.c2sTls, trust, username))));
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
