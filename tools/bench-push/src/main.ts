/**
 * Push benchmark: the compiled push service (spawned) against our broker, embedded PostgreSQL
 * and the local APNs server. Prints
 *  1. sustained pushes/s: a burst of BENCH_PUSH_BURST messages to offline users, first to last push;
 *  2. delay from MessageAccepted.acceptedAt to the push arriving at APNs, p50/p99, with messages
 *     paced at BENCH_PUSH_RATE/s for BENCH_PUSH_SECONDS (below capacity, so it is not queueing).
 * The badge wait is 0 here (no read-state running): the delay is the service's own. With
 * BENCH_PUSH_READ_STATE=1 read-state runs too and the badge is the real one (see below).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Kafka } from 'kafkajs';
import { chatKeyOf, createEvent, MessageAccepted, type Envelope } from '@hearth/contracts';
import { createEventProducer } from '@hearth/kafka';
import { freePort, startApnsServer, startBroker, startPostgres } from '@hearth/testing';

const PUSH_MAIN = path.resolve(__dirname, '../../../../apps/push/dist/src/main.js');
const READ_STATE_MAIN = path.resolve(__dirname, '../../../../apps/read-state/dist/src/main.js');
/**
 * BENCH_PUSH_READ_STATE=1 also runs read-state, and push waits for its UnreadChanged as in
 * production (HEARTH_PUSH_BADGE_WAIT_MS at its default): the delay then includes getting the
 * exact badge, and every badge is checked against the true unread total (nobody reads here; see `exact`).
 */
const WITH_READ_STATE = process.env.BENCH_PUSH_READ_STATE === '1';
const BUNDLE = 'com.example.chat';
const ADMIN = 'bench-admin-token-0123456789';
const USERS = Number(process.env.BENCH_PUSH_USERS ?? 100);
const BURST = Number(process.env.BENCH_PUSH_BURST ?? 5000);
const RATE = Number(process.env.BENCH_PUSH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_PUSH_SECONDS ?? 10);
const READY_TIMEOUT_MS = 60_000;

function message(i: number): Envelope {
  const to = `user${i % USERS}@localhost`;
  const from = `sender${i % 7}@localhost`;
  const stanzaId = `b-${i}-${randomUUID().slice(0, 8)}`;
  const chatKey = chatKeyOf(from, to);
  return createEvent(MessageAccepted, {
    stanzaId, chatKey, sender: from, senderFullJid: `${from}/web`, recipient: to, to, messageType: 'chat', body: `benchmark message ${i}`,
    stanza: `<message xmlns='jabber:client' from='${from}/web' to='${to}' type='chat'><body>benchmark message ${i}</body></message>`,
    acceptedAt: new Date().toISOString(), gateway: 'bench',
  }, { key: chatKey, producer: 'bench' });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const [broker, postgres, apns] = await Promise.all([startBroker(), startPostgres(), startApnsServer({ topics: [BUNDLE] })]);
  const caFile = path.join(mkdtempSync(path.join(tmpdir(), 'hearth-bench-push-')), 'ca.pem');
  writeFileSync(caFile, apns.certificate);
  const databaseUrl = await postgres.freshDatabase('bench_push');
  const httpPort = await freePort();
  const readState = WITH_READ_STATE ? spawnReadState(await postgres.freshDatabase('bench_push_read_state'), broker.brokers, await freePort(), await freePort()) : undefined;
  const child = spawn(process.execPath, [PUSH_MAIN], {
    env: {
      ...process.env, DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_HTTP_PORT: String(httpPort),
      HEARTH_GRPC_PORT: String(await freePort()), HEARTH_ADMIN_TOKEN: ADMIN, HEARTH_APNS_ENDPOINT: apns.endpoint, HEARTH_APNS_CA_FILE: caFile,
      HEARTH_APNS_KEY_FILE: apns.keyFile, HEARTH_APNS_KEY_ID: apns.keyId, HEARTH_APNS_TEAM_ID: apns.teamId, ...(WITH_READ_STATE ? {} : { HEARTH_PUSH_BADGE_WAIT_MS: '0' }), LOG_LEVEL: process.env.BENCH_PUSH_LOG_LEVEL ?? (process.env.BENCH_PUSH_LOGS === '1' ? 'info' : 'warn'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.on('exit', () => {
    child.kill('SIGKILL');
    readState?.child.kill('SIGKILL');
  });
  try {
    // The service is ready when /readyz says so. (Waiting for its "push listening" log line hung
    // whenever the logs were not wanted: that line is logged at info, and LOG_LEVEL was warn.)
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`push exited with ${code}`))));
    exited.catch(() => undefined);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (process.env.BENCH_PUSH_LOGS === '1') process.stderr.write(`[push] ${line}\n`);
    });
    const url = `http://127.0.0.1:${httpPort}`;
    await waitReady(url, exited);
    if (readState) await waitReady(readState.url, readState.exited);
    for (let u = 0; u < USERS; u++) {
      const token = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
      const response = await fetch(`${url}/users/user${u}@localhost/devices/phone`, {
        method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceToken: token, bundleId: BUNDLE, environment: 'sandbox' }),
      });
      if (response.status !== 200) throw new Error(`registration failed: ${response.status} ${await response.text()}`);
    }
    process.stderr.write(`registered ${USERS} devices\n`);
    const producer = await createEventProducer(new Kafka({ brokers: broker.brokers, clientId: 'bench-push', logLevel: 0 }));

    // 1. Throughput: one burst.
    const burst = Array.from({ length: BURST }, (_, i) => message(i));
    const startedAt = Date.now();
    for (let i = 0; i < burst.length; i += 500) await producer.publish(burst.slice(i, i + 500));
    await apns.waitFor(() => apns.accepted().length >= BURST, `${BURST} pushes`, 300_000);
    const accepted = apns.accepted();
    const first = Math.min(...accepted.map((r) => r.receivedAt));
    const last = Math.max(...accepted.map((r) => r.receivedAt));
    const sustained = (BURST / Math.max(1, last - first)) * 1000;
    const endToEnd = (BURST / Math.max(1, last - startedAt)) * 1000;

    process.stderr.write(`burst done: ${Math.round(sustained)} pushes/s\n`);
    // 2. Delay at a paced rate.
    const acceptedAt = new Map<string, number>();
    const paced = RATE * SECONDS;
    const pacedStart = Date.now();
    for (let i = 0; i < paced; i++) {
      const due = pacedStart + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const event = message(BURST + i);
      acceptedAt.set(event.id, Date.parse((event.payload as { acceptedAt: string }).acceptedAt));
      await producer.publish(event);
    }
    await apns.waitFor(() => apns.accepted().length >= BURST + paced, `${paced} paced pushes`, 120_000);
    const delays = apns.accepted()
      .map((r) => ({ r, at: acceptedAt.get(String((r.payload?.hearth as { eventId?: string } | undefined)?.eventId)) }))
      .filter((x): x is { r: typeof x.r; at: number } => x.at !== undefined)
      .map(({ r, at }) => r.receivedAt - at)
      .sort((a, b) => a - b);

    // Nobody reads, so the k-th message to a user (k from 1) has k unread when it is accepted. Paced
    // messages are pushed before the user's next one arrives: badge k exactly. A burst's messages
    // are all accepted before most pushes go out, so a right badge is the user's real total at
    // some moment between its message and the push: from k up to the user's burst size (a guess
    // below k, or a stale total, is wrong).
    const perUserInBurst = Math.ceil(BURST / USERS);
    const exact = (phase: 'burst' | 'paced') => {
      const checked = apns.accepted().map((r) => ({
        index: Number(String((r.payload?.hearth as { stanzaId?: string } | undefined)?.stanzaId).split('-')[1]),
        badge: (r.payload?.aps as { badge?: number } | undefined)?.badge ?? -1,
      })).filter(({ index }) => (phase === 'burst') === (index < BURST));
      const right = checked.filter(({ index, badge }) => {
        const k = Math.floor(index / USERS) + 1;
        return phase === 'paced' ? badge === k : badge >= k && badge <= perUserInBurst;
      });
      return `${right.length}/${checked.length}`;
    };
    const duplicates = apns.requests.length - new Set(apns.requests.map((r) => r.apnsId)).size;
    console.log(JSON.stringify({
      users: USERS, burst: BURST,
      sustainedPushesPerSecond: Math.round(sustained),
      burstEndToEndPushesPerSecond: Math.round(endToEnd),
      paced: { rate: RATE, seconds: SECONDS, pushes: delays.length, delayMsP50: percentile(delays, 50), delayMsP99: percentile(delays, 99), delayMsMax: delays.at(-1) },
      duplicateApnsIds: duplicates,
      readState: WITH_READ_STATE, exactBadges: { burst: exact('burst'), paced: exact('paced') },
    }, null, 2));
    await producer.disconnect();
  } finally {
    child.kill('SIGTERM');
    readState?.child.kill('SIGTERM');
    await Promise.all([new Promise((r) => child.once('exit', r)), readState && new Promise((r) => readState.child.once('exit', r))]);
    await Promise.all([broker.dispose(), postgres.stop(), apns.stop()]);
  }
}

function spawnReadState(databaseUrl: string, brokers: string[], httpPort: number, grpcPort: number) {
  const child = spawn(process.execPath, [READ_STATE_MAIN], {
    env: { ...process.env, DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: brokers.join(','), HEARTH_HTTP_PORT: String(httpPort), HEARTH_GRPC_PORT: String(grpcPort), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`read-state exited with ${code}`))));
  exited.catch(() => undefined);
  return { child, url: `http://127.0.0.1:${httpPort}`, exited };
}

async function waitReady(url: string, exited: Promise<never>): Promise<void> {
  const readyBy = Date.now() + READY_TIMEOUT_MS;
  while ((await Promise.race([fetch(`${url}/readyz`).then((r) => r.status, () => 0), exited])) !== 200) {
    if (Date.now() > readyBy) throw new Error(`${url} was not ready after ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

void main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
