/**
 * Benchmark of apps/read-state (the compiled service, spawned) on a real broker and PostgreSQL:
 *   0. 100,000 chats (1,000 users × 100 peers, 5 unread each) seeded into read-state's database
 *      with SQL — the state 500,000 MessageAccepted would leave — so the figures are about the
 *      markers and queries, not about seeding;
 *   1. ingest: MessageAccepted through the broker until read-state has applied them;
 *   2. marker throughput: MoveReadPointer over gRPC (validate, append ReadPointerMoved with
 *      acks -1, reply), for each of `--concurrency` (a comma list) calls in flight, each to a
 *      random chat; then how long until the projection has applied all of them;
 *   3. count-query latency p50/p99: GetUnread over gRPC and GET /users/{jid}/unread over HTTP,
 *      for random users (100 chats each).
 *
 * npm run bench -w @hearth/bench-read-state [-- --users 1000 --peers 100 --markers 2000 --concurrency 16,64,256 --queries 2000 --ingest 5000]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Client } from 'pg';
import { chatKeyOf, createEvent, MessageAccepted, protoPath } from '@hearth/contracts';
import { createEventProducer, createKafka } from '@hearth/kafka';
import { createLogger } from '@hearth/runtime';
import { freePort, startBroker, startPostgres } from '@hearth/testing';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const MAIN = path.resolve(__dirname, '../../../../apps/read-state/dist/src/main.js');
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const MESSAGES_PER_CHAT = 5;

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    peers: { type: 'string', default: '100' },
    markers: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16,64,256' },
    queries: { type: 'string', default: '2000' },
    ingest: { type: 'string', default: '5000' },
    partitions: { type: 'string', default: '4' },
  },
});
const USERS = Number(args.users);
const PEERS = Number(args.peers);
const MARKERS = Number(args.markers);
const CONCURRENCY = args.concurrency!.split(',').map(Number);
const QUERIES = Number(args.queries);
const INGEST = Number(args.ingest);

const user = (u: number) => `u${u}@bench.local`;
const peer = (p: number) => `p${p}@bench.local`;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const rand = (n: number) => 1 + Math.floor(Math.random() * n);

type Unary = (request: object, callback: (error: grpc.ServiceError | null, reply: unknown) => void) => void;

async function main(): Promise<void> {
  const logger = createLogger('bench-read-state', 'silent');
  const [broker, postgres] = await Promise.all([startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: args.partitions! } }), startPostgres()]);
  const databaseUrl = await postgres.freshDatabase('bench_read_state');
  const grpcPort = await freePort();
  const service = spawn(process.execPath, [MAIN], {
    env: { ...process.env, DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_HTTP_PORT: '0',
      HEARTH_GRPC_PORT: String(grpcPort), HEARTH_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.on('exit', () => service.kill('SIGKILL'));
  const db = new Client({ connectionString: databaseUrl });
  try {
    const httpPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('read-state did not start')), 30_000);
      readline.createInterface({ input: service.stdout! }).on('line', (line) => {
        if (!line.includes('read-state listening')) return;
        clearTimeout(timer);
        resolve(Number((JSON.parse(line) as { httpPort: number }).httpPort));
      });
    });
    const url = `http://127.0.0.1:${httpPort}`;
    while ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) !== 200) await new Promise((r) => setTimeout(r, 100));
    await db.connect();

    // 0. seed
    let started = performance.now();
    await db.query(`INSERT INTO chat_messages (chat_key, stanza_id, position, sender, recipient, countable)
      SELECT 'p' || p || '@bench.local u' || u || '@bench.local', 's-' || u || '-' || p || '-' || k, k, 'p' || p || '@bench.local', 'u' || u || '@bench.local', true
      FROM generate_series(1, $1::int) u, generate_series(1, $2::int) p, generate_series(0, $3::int - 1) k`, [USERS, PEERS, MESSAGES_PER_CHAT]);
    await db.query(`INSERT INTO chat_read_states (user_jid, peer_jid, unread)
      SELECT 'u' || u || '@bench.local', 'p' || p || '@bench.local', $3::int FROM generate_series(1, $1::int) u, generate_series(1, $2::int) p`,
    [USERS, PEERS, MESSAGES_PER_CHAT]);
    await db.query(`INSERT INTO unread_totals (user_jid, total) SELECT 'u' || u || '@bench.local', $2::int * $3::int FROM generate_series(1, $1::int) u`,
      [USERS, PEERS, MESSAGES_PER_CHAT]);
    await db.query('ANALYZE');
    console.log(`seeded ${fmt(USERS * PEERS)} chats (${fmt(USERS * PEERS * MESSAGES_PER_CHAT)} messages) in ${fmt((performance.now() - started) / 1000, 1)} s`);

    // 1. ingest through the broker
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'bench', logger });
    const producer = await createEventProducer(kafka);
    started = performance.now();
    for (let i = 0; i < INGEST; i += 500) {
      await producer.publish(Array.from({ length: Math.min(500, INGEST - i) }, (_, j) => {
        const to = user(rand(USERS));
        const from = peer(rand(PEERS));
        const stanzaId = `ingest-${i + j}`;
        return createEvent(MessageAccepted, {
          stanzaId, chatKey: chatKeyOf(from, to), sender: from, senderFullJid: `${from}/bench`, recipient: to, to, messageType: 'chat',
          body: 'hello', stanza: `<message to='${to}' type='chat'><body>hello</body></message>`, acceptedAt: new Date().toISOString(), gateway: 'bench',
        }, { key: chatKeyOf(from, to), producer: 'bench' });
      }));
    }
    const produced = performance.now();
    for (;;) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM chat_messages WHERE stanza_id LIKE 'ingest-%'`);
      if (rows[0].n >= INGEST) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ingestSeconds = (performance.now() - started) / 1000;
    console.log(`ingest: ${fmt(INGEST)} MessageAccepted appended in ${fmt((produced - started) / 1000, 1)} s, applied by read-state after ${fmt(ingestSeconds, 1)} s: ${fmt(INGEST / ingestSeconds)} messages/s`);
    await producer.disconnect();

    const definition = protoLoader.loadSync(protoPath('read-state'), { keepCase: true, longs: String, enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      hearth: { read_state: { ReadState: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary> } };
    };
    const stub = new loaded.hearth.read_state.ReadState(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const call = <R>(method: string, request: object) => new Promise<R>((resolve, reject) =>
      stub[method]!.call(stub, request, (error, reply) => (error ? reject(error) : resolve(reply as R))));

    // 2. markers, at each concurrency: the reply comes once the move is in the log; "applied" is
    // when the projection has written every pointer (what the next query of each user waits for).
    const pointers = new Map<string, number>();
    for (const concurrency of CONCURRENCY) {
      const markerLatencies: number[] = [];
      let next = 0;
      let moved = 0;
      started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < MARKERS) {
          next++;
          const u = rand(USERS);
          const p = rand(PEERS);
          const k = pointers.get(`${u} ${p}`) ?? -1;
          if (k + 1 >= MESSAGES_PER_CHAT) continue;
          pointers.set(`${u} ${p}`, k + 1);
          const t0 = performance.now();
          const reply = await call<{ moved: boolean }>('MoveReadPointer', { user: user(u), peer: peer(p), stanza_id: `s-${u}-${p}-${k + 1}`, moved_by: 'displayed-marker' });
          markerLatencies.push(performance.now() - t0);
          if (reply.moved) moved++;
        }
      }));
      const markerSeconds = (performance.now() - started) / 1000;
      for (;;) {
        const { rows } = await db.query('SELECT count(*)::int AS chats, COALESCE(sum(pointer_position), 0)::int AS positions FROM chat_read_states WHERE pointer_position >= 0');
        if (rows[0].chats === pointers.size && rows[0].positions === [...pointers.values()].reduce((a, b) => a + b, 0)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const appliedSeconds = (performance.now() - started) / 1000;
      markerLatencies.sort((a, b) => a - b);
      console.log(`markers: ${fmt(markerLatencies.length)} MoveReadPointer (${fmt(moved)} moved) with ${concurrency} in flight in ${fmt(markerSeconds, 1)} s: `
        + `${fmt(markerLatencies.length / markerSeconds)} markers/s; latency p50 ${fmt(percentile(markerLatencies, 50), 1)} ms, p99 ${fmt(percentile(markerLatencies, 99), 1)} ms; `
        + `all applied by the projection after ${fmt(appliedSeconds, 1)} s (${fmt(markerLatencies.length / appliedSeconds)} markers/s)`);
    }

    // 3. count queries
    for (const [name, query] of [
      ['GetUnread (gRPC)', (u: number) => call('GetUnread', { user: user(u) })],
      ['GET /users/{jid}/unread (HTTP)', (u: number) => fetch(`${url}/users/${user(u)}/unread`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.json())],
    ] as const) {
      const latencies: number[] = [];
      for (let i = 0; i < 50; i++) await query(rand(USERS)); // warm-up
      started = performance.now();
      for (let i = 0; i < QUERIES; i++) {
        const t0 = performance.now();
        await query(rand(USERS));
        latencies.push(performance.now() - t0);
      }
      latencies.sort((a, b) => a - b);
      console.log(`${name}: ${fmt(QUERIES)} queries of ${PEERS} chats each, one at a time: p50 ${fmt(percentile(latencies, 50), 2)} ms, `
        + `p99 ${fmt(percentile(latencies, 99), 2)} ms (${fmt(QUERIES / ((performance.now() - started) / 1000))} queries/s)`);
    }
    stub.close();
  } finally {
    await db.end().catch(() => undefined);
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
    await Promise.all([broker.dispose(), postgres.stop()]);
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
