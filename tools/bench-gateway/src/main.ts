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
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { cpuSeconds, createBenchAccounts, RawXmppConnection, rssBytes, startBenchGateway } from '@hearth/testing';

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

/** TLS sessions (tickets) from the first pass, per username, for --resume. */
const tlsSessions = new Map<string, Buffer>();

async function main(): Promise<void> {
  const gateway = await startBenchGateway(GATEWAY, ADMIN_TOKEN, process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {});
  const clients: RawXmppConnection[] = [];
  const max = Math.max(...TARGETS);
  try {
    let started = Date.now();
    await createBenchAccounts(gateway, ADMIN_TOKEN, Array.from({ length: max }, (_, i) => `bench${i}@localhost`), PASSWORD);
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
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
