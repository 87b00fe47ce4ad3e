/**
 * Archive benchmark: `npm run bench -w @hearth/bench-archive -- [--messages 150000] [--users 1000]
 *   [--rate 2000] [--load-seconds 10] [--archive-size 1000000] [--pages 2000]`
 *
 * 1. Ingest: --messages MessageAccepted events are appended first, then the archive service
 *    starts and consumes them: events/s (and archive rows/s, two per message) into PostgreSQL.
 *    Enough of them that the first seconds (compiling the hot code, the first fetches) do not
 *    decide the rate: 50,000 measured about 15% below the steady rate. The sustained rate, over
 *    the last four fifths of them, is printed too.
 * 2. Projection lag: --rate messages/s for --load-seconds while the service runs; the lag of
 *    each produced batch is the time until the archive's checkpoint passes it.
 * 3. MAM page latency: one user's archive of --archive-size messages (seeded with bulk SQL in
 *    the projection's own shape), then --pages gRPC Query calls of max=50 pages (forward after a
 *    random id, backward before a random id, the last page, with a peer): p50/p99.
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { chatKeyOf, createEvent, encodeEvent, MessageAccepted, newStanzaId, protoPath, topics } from '@hearth/contracts';
import { CheckpointPositions } from '@hearth/kafka';
import { cpuByPart, cpuReport, partsOf, snapshotCpu, startBroker, startPostgres, startService, type CpuSnapshot } from '@hearth/testing';

const { values } = parseArgs({ options: {
  messages: { type: 'string', default: '150000' },
  users: { type: 'string', default: '1000' },
  rate: { type: 'string', default: '2000' },
  'load-seconds': { type: 'string', default: '10' },
  'archive-size': { type: 'string', default: '1000000' },
  pages: { type: 'string', default: '2000' },
} });
const MESSAGES = Number(values.messages);
const USERS = Number(values.users);
const RATE = Number(values.rate);
const LOAD_SECONDS = Number(values['load-seconds']);
const ARCHIVE_SIZE = Number(values['archive-size']);
const PAGES = Number(values.pages);
const PRODUCE_BATCH = 500;
/**
 * The sustained rate leaves out the first fifth of the ingest: a process that has just started
 * runs its hot code unoptimised, and every owner's first rows are inserts rather than updates.
 */
const WARM_UP_SHARE = 0.2;
const PAGE_MAX = 50;
const BENCH_OWNER = 'bench@localhost';
const BENCH_PEERS = 20;
// MAM pages start at random ids at least PAGE_MAX × BENCH_PEERS from either end (see randomId).
if (ARCHIVE_SIZE < 4 * PAGE_MAX * BENCH_PEERS) throw new Error(`--archive-size must be at least ${4 * PAGE_MAX * BENCH_PEERS}, for full pages of one peer`);

const jid = (i: number) => `user${i}@localhost`;
let counter = 0;
function message(): { key: string; value: Buffer } {
  const n = ++counter;
  const from = jid(n % USERS);
  const to = jid((n * 7 + 1) % USERS === n % USERS ? (n + 1) % USERS : (n * 7 + 1) % USERS);
  const stanzaId = newStanzaId();
  const body = `benchmark message ${n} with a body of a typical length for a chat line`;
  const chatKey = chatKeyOf(from, to);
  const event = createEvent(MessageAccepted, {
    stanzaId, chatKey, sender: from, senderFullJid: `${from}/phone`, recipient: to, to, messageType: 'chat', clientMessageId: `c${n}`, body,
    stanza: `<message xmlns='jabber:client' from='${from}/phone' to='${to}' type='chat' id='c${n}'><body>${body}</body><stanza-id xmlns='urn:xmpp:sid:0' by='${to}' id='${stanzaId}'/></message>`,
    acceptedAt: new Date().toISOString(), gateway: 'gw-bench',
  }, { key: chatKey, producer: 'bench' });
  return { key: event.key, value: encodeEvent(event) };
}

async function produce(producer: Producer, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += PRODUCE_BATCH) {
    const messages = Array.from({ length: Math.min(PRODUCE_BATCH, count - sent) }, message);
    await producer.send({ topic: topics.messages, acks: -1, messages });
  }
}

/** MessageAccepted events applied by every one of the archive's consumers (its shards). */
const checkpoint = async (db: Client, consumers: string[]) => (await CheckpointPositions.read(db, consumers)).appliedByAll(topics.messages);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function main(): Promise<void> {
  const broker = await startBroker();
  const postgres = await startPostgres();
  const cleanups: (() => Promise<unknown>)[] = [() => broker.dispose(), () => postgres.stop()];
  try {
    const databaseUrl = await postgres.freshDatabase('archive_bench');
    const kafka = new Kafka({ clientId: 'bench-archive', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    cleanups.unshift(() => producer.disconnect());

    // 1. Ingest
    console.log(`producing ${MESSAGES} MessageAccepted events (${USERS} users)…`);
    await produce(producer, MESSAGES);
    const started = process.hrtime.bigint();
    const service = await startService({ app: 'archive', env: { DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(',') }, startTimeoutMs: 600_000 });
    cleanups.unshift(() => service.stop());
    const { consumers } = await service.waitForLog((line) => Array.isArray(line.consumers)) as { consumers: string[] };
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    cleanups.unshift(() => db.end());
    // The service is ready (migrated, joined) from here: what follows is consumption alone.
    const ready = process.hrtime.bigint();
    const cpuBefore = snapshotCpu();
    let warm: { at: bigint; applied: number; cpu: CpuSnapshot } | undefined;
    for (let applied = 0; applied < MESSAGES; applied = Number(await checkpoint(db, consumers))) {
      if (!warm && applied >= MESSAGES * WARM_UP_SHARE) {
        const cpu = snapshotCpu();
        warm = { at: process.hrtime.bigint(), applied, cpu };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const done = process.hrtime.bigint();
    const cpuAfter = snapshotCpu();
    const total = Number(done - started) / 1e9;
    const consuming = Number(done - ready) / 1e9;
    const rows = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM archive_messages')).rows[0]!.n);
    console.log(`ingest: ${MESSAGES} messages → ${rows} archive rows in ${total.toFixed(2)} s (service start included) = ${Math.round(MESSAGES / total)} messages/s, ${Math.round(rows / total)} rows/s`);
    console.log(`ingest after the service was ready: ${consuming.toFixed(2)} s = ${Math.round(MESSAGES / consuming)} messages/s, ${Math.round(rows / consuming)} rows/s`);
    const partOf = partsOf(
      { [service.pid]: 'archive', [broker.pid]: 'broker', [process.pid]: 'benchmark (checkpoint polls)' },
      { [databaseUrl]: 'PostgreSQL for the archive' },
    );
    for (const line of cpuReport(cpuByPart(cpuBefore, cpuAfter, partOf), MESSAGES, consuming)) console.log(`  ${line}`);
    if (warm) {
      const sustained = MESSAGES - warm.applied;
      const seconds = Number(done - warm.at) / 1e9;
      console.log(`ingest sustained, the last ${sustained} messages (after the first ${warm.applied}): ${seconds.toFixed(2)} s = ${Math.round(sustained / seconds)} messages/s`);
      for (const line of cpuReport(cpuByPart(warm.cpu, cpuAfter, partOf), sustained, seconds)) console.log(`  ${line}`);
    }

    // 2. Lag under load
    console.log(`projection lag at ${RATE} messages/s for ${LOAD_SECONDS} s…`);
    const lags: number[] = [];
    const pending: { offset: bigint; at: number }[] = [];
    let produced = BigInt(MESSAGES);
    let stop = false;
    const watcher = (async () => {
      while (!stop || pending.length > 0) {
        const at = await checkpoint(db, consumers);
        while (pending.length > 0 && pending[0]!.offset <= at) lags.push(Date.now() - pending.shift()!.at);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const perTick = Math.max(1, Math.round(RATE / 20));
    const loadEnd = Date.now() + LOAD_SECONDS * 1_000;
    for (let next = Date.now(); Date.now() < loadEnd; next += 50) {
      await producer.send({ topic: topics.messages, acks: -1, messages: Array.from({ length: perTick }, message) });
      produced += BigInt(perTick);
      pending.push({ offset: produced, at: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next + 50 - Date.now())));
    }
    stop = true;
    await watcher;
    lags.sort((a, b) => a - b);
    console.log(`projection lag (produce ack → checkpoint): p50 ${percentile(lags, 50)} ms, p99 ${percentile(lags, 99)} ms, max ${lags[lags.length - 1]} ms over ${lags.length} batches`);

    // 3. MAM page latency over a large archive
    console.log(`seeding an archive of ${ARCHIVE_SIZE} messages for ${BENCH_OWNER} with bulk SQL…`);
    const seedStart = Date.now();
    await db.query(`INSERT INTO archive_messages (owner, seq, stanza_id, peer, peer_jid, outgoing, accepted_at, conversation_id, stanza)
      SELECT $1, g, 'b' || g, 'peer' || (g % ${BENCH_PEERS}) || '@localhost', 'peer' || (g % ${BENCH_PEERS}) || '@localhost/phone', false,
             timestamptz '2026-01-01' + g * interval '1 second', 'b' || (g - g % 1000 + 1),
             '<message xmlns=''jabber:client'' from=''peer' || (g % ${BENCH_PEERS}) || '@localhost/phone'' to=''${BENCH_OWNER}'' type=''chat''><body>seeded message ' || g || '</body><stanza-id xmlns=''urn:xmpp:sid:0'' by=''${BENCH_OWNER}'' id=''b' || g || '''/></message>'
      FROM generate_series(1, $2::bigint) AS g`, [BENCH_OWNER, ARCHIVE_SIZE]);
    await db.query(`INSERT INTO archive_owners (owner, last_seq, message_count) VALUES ($1, $2, $2)`, [BENCH_OWNER, ARCHIVE_SIZE]);
    await db.query(`INSERT INTO archive_chats (owner, peer, last_seq, last_stanza_id, last_accepted_at, message_count)
      SELECT DISTINCT ON (peer) owner, peer, seq, stanza_id, accepted_at, count(*) OVER (PARTITION BY peer) FROM archive_messages WHERE owner = $1 ORDER BY peer, seq DESC`, [BENCH_OWNER]);
    await db.query('ANALYZE');
    console.log(`  seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const definition = protoLoader.loadSync(protoPath('archive'), { keepCase: true, longs: String, defaults: true, oneofs: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { hearth: { archive: { Archive: grpc.ServiceClientConstructor } } };
    const client = new loaded.hearth.archive.Archive(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
    cleanups.unshift(async () => client.close());
    const query = (request: object) => new Promise<{ messages: unknown[] }>((resolve, reject) =>
      (client as unknown as Record<string, (r: object, cb: (e: Error | null, v: { messages: unknown[] }) => void) => void>).Query!(request, (e, v) => (e ? reject(e) : resolve(v))));
    // Far enough from both ends that a page (of one peer: every BENCH_PEERS-th message) is still full.
    const margin = PAGE_MAX * BENCH_PEERS;
    const randomId = () => `b${margin + 1 + Math.floor(Math.random() * (ARCHIVE_SIZE - margin * 3))}`;
    const shapes = [
      () => ({ rsm: { max: PAGE_MAX, has_max: true, after: randomId() } }),
      () => ({ rsm: { max: PAGE_MAX, has_max: true, before: randomId(), has_before: true } }),
      () => ({ rsm: { max: PAGE_MAX, has_max: true, before: '', has_before: true } }),
      () => ({ with: `peer${Math.floor(Math.random() * BENCH_PEERS)}@localhost`, rsm: { max: PAGE_MAX, has_max: true, after: randomId() } }),
    ];
    for (let i = 0; i < 100; i++) await query({ requester: BENCH_OWNER, owner: BENCH_OWNER, ...shapes[i % shapes.length]!() }); // warm-up
    const latencies: number[] = [];
    for (let i = 0; i < PAGES; i++) {
      const t = process.hrtime.bigint();
      const reply = await query({ requester: BENCH_OWNER, owner: BENCH_OWNER, ...shapes[i % shapes.length]!() });
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (reply.messages.length !== PAGE_MAX) throw new Error(`page ${i} had ${reply.messages.length} messages`);
    }
    latencies.sort((a, b) => a - b);
    console.log(`MAM page (max=${PAGE_MAX}, archive of ${ARCHIVE_SIZE}, gRPC round trip): p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies[latencies.length - 1]!)} over ${PAGES} pages`);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
