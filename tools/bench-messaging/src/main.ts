/**
 * Messaging benchmark (issue #5): starts the broker, PostgreSQL, the archive and ONE gateway
 * (all real processes), logs in N user pairs over direct TLS with SCRAM-SHA-256, sends
 * `<presence/>`, then every user sends chat messages to its partner at a set total rate. Each
 * body carries its send time; the partner's arrival time gives the end-to-end latency (send →
 * accepted into the log → delivered from the log → received). Prints sustained throughput and
 * latency p50/p99/max per step, where the machine's CPU went (per part of the system, in µs per
 * message) and how long the archive took to hold every message of the step.
 *
 *   npm run bench -w @hearth/bench-messaging -- [--pairs 500] [--rates 5000,10000] [--seconds 10]
 *   BENCH_GATEWAY_NODE_OPTIONS=--cpu-prof  profiles the gateway (the .cpuprofile lands in the cwd)
 *   BENCH_GATEWAY_MAIN=/path/to/dist/src/main.js  benchmarks another gateway build
 *   HEARTH_GATEWAY_*=…  gateway settings to try (e.g. HEARTH_GATEWAY_APPEND_LANES=1)
 *
 * The client is raw TLS with regular expressions (as in tools/bench-gateway) so the benchmark
 * measures the server, not an XMPP library. Messages carry an `id`, so the dedupe path is on.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSecureContext, type SecureContext } from 'node:tls';
import { Client } from 'pg';
import {
  cpuByPart, cpuReport, createBenchAccounts, partsOf, RawXmppConnection, snapshotCpu, startBenchGateway, startBroker, startPostgres, startService,
} from '@hearth/testing';

/** BENCH_GATEWAY_MAIN runs another build of the gateway (e.g. a copy of an older revision, to compare under the same load). */
const GATEWAY = process.env.BENCH_GATEWAY_MAIN ?? resolve(__dirname, '../../../../apps/gateway/dist/src/main.js');
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const PASSWORD = 'bench-password';
const TICK_MS = 5;
/** Messages `reader` sends before the steps, so its archive has pages to sync. */
const SEED_MESSAGES = 100;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}
const PAIRS = Number(option('pairs', '500'));
const RATES = option('rates', '5000,10000').split(',').map(Number);
const SECONDS = Number(option('seconds', '10'));
/** `--no-ids`: messages without an id, so the dedupe store is skipped (to see what it costs). */
const WITH_IDS = !process.argv.includes('--no-ids');

/** Latencies of received messages, in ms. */
const latencies: number[] = [];
let received = 0;
let errors = 0;

/** One online user: a raw TLS connection (see libs/testing raw-xmpp.ts) that measures what it receives. */
class BenchClient {
  private text = '';
  private seq = 0;
  private connection!: RawXmppConnection;

  constructor(readonly username: string) {}

  async login(port: number, trust: SecureContext): Promise<void> {
    this.connection = new RawXmppConnection({ port, trust });
    await this.connection.login(this.username, PASSWORD, (chunk) => this.onData(chunk));
    this.connection.write('<presence/>');
  }

  /** Counts messages as they arrive; the body is the sender's performance.now() at send time. */
  private onData(chunk: string): void {
    this.text += chunk;
    const end = this.text.lastIndexOf('</message>');
    if (end < 0) return;
    const complete = this.text.slice(0, end + 10);
    this.text = this.text.slice(end + 10);
    const now = performance.now();
    for (const match of complete.matchAll(/<body>([\d.]+)<\/body>/g)) {
      received += 1;
      latencies.push(now - Number(match[1]));
    }
    if (complete.includes('type="error"')) {
      // The first error says why (e.g. resource-constraint when the log is down); the rest are counted.
      if (errors === 0) console.error(complete.slice(0, 600));
      errors += (complete.match(/type="error"/g) ?? []).length;
    }
  }

  send(to: string): void {
    const id = WITH_IDS ? ` id='${this.username}-${++this.seq}'` : '';
    this.connection.write(`<message to='${to}' type='chat'${id}><body>${performance.now().toFixed(3)}</body></message>`);
  }

  close(): void {
    this.connection.close();
  }
}

/**
 * A device that syncs its user's archive (XEP-0313, the last page of 50) one query after another
 * while the load runs. It sends no presence, so it is not given live messages.
 */
class MamProbe {
  private connection!: RawXmppConnection;
  private text = '';
  private answered: (() => void) | null = null;
  private queries = 0;

  constructor(readonly username: string) {}

  async login(port: number, trust: SecureContext): Promise<void> {
    this.connection = new RawXmppConnection({ port, trust });
    await this.connection.login(this.username, PASSWORD, (chunk) => {
      this.text += chunk;
      if (this.text.includes(`id='mam${this.queries}'`) || this.text.includes(`id="mam${this.queries}"`)) {
        if (/type=["']error["']/.test(this.text)) console.error(`MAM query refused: ${this.text.slice(-600)}`);
        this.text = '';
        this.answered?.();
      }
    });
  }

  /** Gives the user an archive of `count` messages, sent to `to` (not timed: no numeric body). */
  seed(to: string, count: number): void {
    for (let i = 0; i < count; i++) this.connection.write(`<message to='${to}' type='chat'><body>archive seed ${i}</body></message>`);
  }

  /** Page latencies (ms) of queries made until `running()` turns false. */
  async run(running: () => boolean): Promise<number[]> {
    const latencies: number[] = [];
    while (running()) {
      const started = performance.now();
      await new Promise<void>((done) => {
        this.answered = done;
        this.connection.write(`<iq type='set' id='mam${++this.queries}'><query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><max>50</max><before/></set></query></iq>`);
      });
      latencies.push(performance.now() - started);
    }
    return latencies;
  }

  close(): void {
    this.connection.close();
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Waits until `sent` messages were received or refused, or `limitMs` passed. */
async function arrivals(sent: number, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (received + errors < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Waits until the archive holds `copies` messages (each chat message is archived for both sides); the seconds waited, or null after `limitMs`. */
async function archiveCatchUp(archiveDb: Client, copies: number, limitMs: number): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    const { rows } = await archiveDb.query<{ n: string }>('SELECT count(*) AS n FROM archive_messages');
    if (Number(rows[0]!.n) >= copies) return (performance.now() - started) / 1000;
    if (performance.now() - started > limitMs) return null;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const users = PAIRS * 2;
  console.log(`bench-messaging: ${PAIRS} pairs (${users} online users), rates ${RATES.join(', ')} msg/s, ${SECONDS} s each`);
  const broker = await startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: process.env.BENCH_PARTITIONS ?? '4' } });
  const postgres = await startPostgres();
  const stops: Array<() => Promise<unknown>> = [() => broker.dispose(), () => postgres.stop()];
  try {
    const common = { HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_DOMAINS: 'localhost' };
    const archiveUrl = await postgres.freshDatabase('archive');
    const gatewayUrl = await postgres.freshDatabase('gateway');
    const archive = await startService({ app: 'archive', env: { ...common, DATABASE_URL: archiveUrl } });
    stops.unshift(() => archive.stop());
    const gateway = await startBenchGateway(GATEWAY, ADMIN_TOKEN, {
      HEARTH_GATEWAY_MESSAGE_RATE_PER_SEC: '100000', HEARTH_GATEWAY_MESSAGE_BURST: '100000', ...common, DATABASE_URL: gatewayUrl, HEARTH_ARCHIVE_GRPC_URL: `127.0.0.1:${archive.grpcPort}`,
    });
    stops.unshift(() => gateway.stop());
    const archiveDb = new Client({ connectionString: archiveUrl });
    await archiveDb.connect();
    stops.unshift(() => archiveDb.end());
    const partOf = partsOf(
      { [gateway.pid]: 'gateway', [archive.pid]: 'archive', [broker.pid]: 'broker', [process.pid]: 'bench clients' },
      { [gatewayUrl]: 'PostgreSQL for the gateway', [archiveUrl]: 'PostgreSQL for the archive' },
    );
    await createBenchAccounts(gateway, ADMIN_TOKEN, [...Array.from({ length: users }, (_, i) => `user${i}@localhost`), 'reader@localhost'], PASSWORD);
    console.log(`${users} accounts created`);
    let archivedCopies = 0;
    const clients = Array.from({ length: users }, (_, i) => new BenchClient(`user${i}`));
    const trust = createSecureContext({ ca: gateway.cert });
    for (let i = 0; i < users; i += 100) await Promise.all(clients.slice(i, i + 100).map((c) => c.login(gateway.ports.c2sTls, trust)));
    const probes = [new MamProbe('user0'), new MamProbe('reader')];
    for (const probe of probes) await probe.login(gateway.ports.c2sTls, trust);
    probes[1]!.seed('user1@localhost', SEED_MESSAGES);
    archivedCopies += 2 * SEED_MESSAGES;
    // The seed is handled one message after another on reader's stream: let it end before the first step.
    await archiveCatchUp(archiveDb, archivedCopies, 60_000);
    console.log(`${users} users online, and two devices syncing their archives (user0, reader)`);

    for (const rate of RATES) {
      latencies.length = 0;
      received = 0;
      errors = 0;
      const cpuBefore = snapshotCpu();
      const started = performance.now();
      let sent = 0;
      let next = 0;
      let sending = true;
      const pages = probes.map((probe) => probe.run(() => sending));
      await new Promise<void>((done) => {
        const timer = setInterval(() => {
          const elapsed = performance.now() - started;
          if (elapsed >= SECONDS * 1000) {
            clearInterval(timer);
            sending = false;
            done();
            return;
          }
          const due = Math.floor((elapsed / 1000) * rate) - sent;
          for (let k = 0; k < due; k++) {
            const i = next++ % users;
            clients[i]!.send(`user${i % 2 === 0 ? i + 1 : i - 1}@localhost`);
          }
          sent += due;
        }, TICK_MS);
      });
      const sendSeconds = (performance.now() - started) / 1000;
      // Drain: wait until everything arrived or 10 s passed.
      await arrivals(sent, 10_000);
      const totalSeconds = (performance.now() - started) / 1000;
      const sorted = [...latencies].sort((a, b) => a - b);
      const pageLatencies = await Promise.all(pages);
      const cpu = cpuReport(cpuByPart(cpuBefore, snapshotCpu(), partOf), received, totalSeconds);
      const figures = [
        `target ${rate} msg/s: sent ${sent} in ${sendSeconds.toFixed(1)} s, received ${received} (${errors} errors)`,
        `  sustained ${(received / totalSeconds).toFixed(0)} msg/s (received / time until the last arrived)`,
        `  latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`,
        ...probes.map((probe, i) => {
          const pagesOf = pageLatencies[i]!.sort((a, b) => a - b);
          return `  MAM page meanwhile (${probe.username}, max=50, the last page): p50 ${percentile(pagesOf, 50).toFixed(1)} ms, `
            + `p99 ${percentile(pagesOf, 99).toFixed(1)} ms, max ${(pagesOf.at(-1) ?? NaN).toFixed(1)} ms over ${pagesOf.length} queries`;
        }),
        ...cpu.map((line) => `  ${line}`),
      ];
      // What the drain did not wait for still counts: it must arrive (nothing lost), and before
      // the next step starts, or that step would count it.
      const late = sent - received - errors;
      if (late > 0) {
        const lateStarted = performance.now();
        await arrivals(sent, 120_000);
        const missing = sent - received - errors;
        figures.push(missing === 0
          ? `  ${late} more were still on their way after the 10 s drain: all arrived ${((performance.now() - lateStarted) / 1000).toFixed(1)} s later (not in the figures above)`
          : `  ${missing} never arrived within 130 s of the last send`);
      }
      archivedCopies += 2 * received;
      const caughtUp = await archiveCatchUp(archiveDb, archivedCopies, 120_000);
      figures.push(caughtUp === null ? '  archive: still behind 120 s after the step' : `  archive: held every message ${caughtUp.toFixed(1)} s after the last arrived`);
      console.log(figures.join('\n'));
    }
    for (const client of clients) client.close();
    for (const probe of probes) probe.close();
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
