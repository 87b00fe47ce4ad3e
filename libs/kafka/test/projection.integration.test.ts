import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AccountCreated, ContractViolation, createEvent, isEvent, topics } from '@hearth/contracts';
import { createLogger } from '@hearth/runtime';
import { startBroker, startPostgres, type RunningBroker, type TestPostgres } from '@hearth/testing';
import { CheckpointPositions, createEventProducer, createKafka, FreshReads, pgProjectionDatabase, runProjection, type EventProducer } from '../src';

const logger = createLogger('projection-test', 'silent');
let broker: RunningBroker;
let postgres: TestPostgres;
let producer: EventProducer;

const CHECKPOINT_TABLE = `CREATE TABLE consumer_checkpoints (consumer text, topic text, partition int, next_offset bigint NOT NULL,
  PRIMARY KEY (consumer, topic, partition))`;

before(async () => {
  [broker, postgres] = await Promise.all([startBroker(), startPostgres()]);
  producer = await createEventProducer(createKafka({ brokers: broker.brokers, clientId: 'test-producer', logger }));
});

after(async () => {
  await producer?.disconnect();
  await Promise.all([broker?.stop(), postgres?.stop()]);
});

const accountCreated = (n: number, prefix = 'user') =>
  createEvent(AccountCreated, { account: `${prefix}${n}@localhost` }, { key: `${prefix}${n}@localhost`, producer: 'test' });

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('an event produced through the contracts is consumed with its schema checked, and a broken one goes to the dead-letter topic', async () => {
  const pool = new Pool({ connectionString: await postgres.freshDatabase('contracts') });
  await pool.query(CHECKPOINT_TABLE);
  await pool.query('CREATE TABLE accounts (account text PRIMARY KEY)');
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'contracts-test', logger });

  // The produce-side check: a payload that breaks its contract never reaches the log.
  assert.throws(() => createEvent(AccountCreated, { account: 'not a jid' }, { key: 'x', producer: 'test' }), ContractViolation);

  await producer.publish(accountCreated(1));
  // Something that bypassed the contracts (another producer, a bug) — raw bytes on the topic.
  const raw = kafka.producer();
  await raw.connect();
  await raw.send({ topic: topics.accounts, acks: -1, messages: [{ key: 'bad', value: '{"type":"AccountCreated","payload":{}}' }] });
  await raw.disconnect();
  await producer.publish(accountCreated(2));

  const projection = await runProjection({
    kafka, name: 'accounts-view', topics: [topics.accounts], database: pgProjectionDatabase(pool), logger, sessionTimeoutMs: 6_000,
    async apply(events, tx) {
      for (const { event } of events) {
        if (isEvent(event, AccountCreated)) await tx.query('INSERT INTO accounts VALUES ($1)', [event.payload.account]);
      }
    },
  });
  try {
    await eventually(async () => (await pool.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n === 2, 'two accounts');
    const { rows } = await pool.query('SELECT account FROM accounts ORDER BY account');
    assert.deepEqual(rows.map((r) => r.account), ['user1@localhost', 'user2@localhost']);

    const dead = await readAll(kafka, topics.deadLetter, 1);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.key, `${topics.accounts}/0/1`);
    assert.match(dead[0]!.headers['hearth-dlq-reason']!, /envelope/);
    assert.equal(dead[0]!.headers['hearth-dlq-consumer'], 'accounts-view');
  } finally {
    await projection.stop();
    await pool.end();
  }
});

test('a consumed event is checked field by field: one breaking its payload contract is dead-lettered with the field and why, unknown fields are dropped, and lengths count characters', async () => {
  const pool = new Pool({ connectionString: await postgres.freshDatabase('checked') });
  await pool.query(CHECKPOINT_TABLE);
  await pool.query('CREATE TABLE accounts (account text PRIMARY KEY, fields text NOT NULL)');
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'checked-test', logger });
  // Raw records with a valid envelope, as another producer might write them.
  const raw = (account: string, extra: Record<string, unknown> = {}, payloadExtra: Record<string, unknown> = {}) => {
    const event = { ...accountCreated(0, 'checked'), ...extra };
    return { key: account, value: JSON.stringify({ ...event, payload: { account, ...payloadExtra } }) };
  };
  const longest = `${'😀'.repeat(1021)}@b`; // 1,023 characters (2,044 UTF-16 units): a bare JID's limit
  const writer = kafka.producer();
  await writer.connect();
  await writer.send({ topic: topics.accounts, acks: -1, messages: [
    raw('checked-no-at-sign'),
    raw('checked1@localhost', { fromTheFuture: 1 }, { nickname: 'one' }),
    raw(`x${longest}`),
    raw(longest),
  ] });
  await writer.disconnect();

  const projection = await runProjection({
    kafka, name: 'checked-view', topics: [topics.accounts], database: pgProjectionDatabase(pool), logger, sessionTimeoutMs: 6_000,
    async apply(events, tx) {
      for (const { event } of events) {
        if (!isEvent(event, AccountCreated)) continue;
        const fields = [...Object.keys(event), ...Object.keys(event.payload)].sort().join(',');
        await tx.query('INSERT INTO accounts VALUES ($1, $2) ON CONFLICT DO NOTHING', [event.payload.account, fields]);
      }
    },
  });
  try {
    // The topic also holds the other tests' events: this one's are the four above.
    const sent = ['checked-no-at-sign', 'checked1@localhost', `x${longest}`, longest];
    const applied = async () => (await pool.query('SELECT account, fields FROM accounts WHERE account = ANY($1) ORDER BY account', [sent])).rows;
    await eventually(async () => (await applied()).length === 2, 'two accounts');
    const rows = await applied();
    const fields = 'account,id,key,occurredAt,payload,producer,type,version';
    assert.deepEqual(rows, [{ account: 'checked1@localhost', fields }, { account: longest, fields }]);

    const dead = await readAll(kafka, topics.deadLetter, 2, (h) => h['hearth-dlq-consumer'] === 'checked-view' && h['hearth-dlq-reason']!.startsWith('AccountCreated: v1:'));
    assert.deepEqual(dead.map((d) => d.headers['hearth-dlq-reason']).sort(), [
      'AccountCreated: v1: account: Too big: expected string to have <=1023 characters',
      'AccountCreated: v1: account: must be a bare JID (local@domain)',
    ]);
  } finally {
    await projection.stop();
    await pool.end();
  }
});

test('a projection killed with SIGKILL mid-stream and restarted applies every event exactly once', async () => {
  await killMidStreamAndRestart('killed', 1);
});

test('a projection with two lanes, killed while they stand at different offsets, resumes each lane from its own checkpoint: every event exactly once', async () => {
  const checkpoints = await killMidStreamAndRestart('killed_lanes', 2);
  assert.deepEqual([...checkpoints.keys()].sort(), ['account-count.0', 'account-count.1']);
  assert.notEqual(checkpoints.get('account-count.0'), checkpoints.get('account-count.1'), 'the lanes stood apart at the kill');
});

/**
 * Publishes 3,000 accounts (named after the database, as other tests share the topic), SIGKILLs the projection process once some are applied, restarts it
 * and checks each was applied exactly once. Returns each lane's checkpoint as it was at the kill.
 */
async function killMidStreamAndRestart(database: string, lanes: number): Promise<Map<string, bigint>> {
  const databaseUrl = await postgres.freshDatabase(database);
  const pool = new Pool({ connectionString: databaseUrl });
  await pool.query(CHECKPOINT_TABLE);
  await pool.query('CREATE TABLE applied (event_id uuid NOT NULL, n int NOT NULL)');
  await pool.query('CREATE TABLE totals (lane int NOT NULL, sum bigint NOT NULL, count int NOT NULL)');
  await pool.query('INSERT INTO totals SELECT lane, 0, 0 FROM generate_series(0, $1 - 1) AS lane', [lanes]);

  const total = 3_000;
  for (let start = 1; start <= total; start += 100) {
    await producer.publish(Array.from({ length: 100 }, (_, i) => accountCreated(start + i, database)));
  }
  const applied = async () => (await pool.query('SELECT count(*)::int AS n FROM applied')).rows[0].n as number;

  let child = startProjectionProcess(databaseUrl, lanes, database);
  try {
    // Each lane's applied offsets, by its checkpoint name (see the fixture).
    const laneNames = lanes > 1 ? Array.from({ length: lanes }, (_, i) => `account-count.${i}`) : ['account-count'];
    const checkpoints = async () => {
      const positions = await CheckpointPositions.read(pool, laneNames);
      return new Map(laneNames.map((name) => [name, positions.appliedBy(name)]));
    };
    // Lanes wait for each other only when one falls a few batches behind: kill while they are apart.
    const lanesApart = async () => new Set((await checkpoints()).values()).size === lanes;
    await eventually(async () => (await applied()) >= 300 && (lanes === 1 || (await lanesApart())), 'the first events to be applied');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const atKill = await applied();
    assert.ok(atKill < total, 'the kill landed mid-stream');
    const checkpointsAtKill = await checkpoints();

    child = startProjectionProcess(databaseUrl, lanes, database);
    await eventually(async () => (await applied()) >= total, 'every event to be applied', 60_000);
    // Give a duplicate, if there were one, time to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const rows = (await pool.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct_ids, sum(n)::bigint AS sum FROM applied')).rows[0];
    const totals = (await pool.query('SELECT sum(sum)::bigint AS sum, sum(count)::int AS count FROM totals')).rows[0];
    const expectedSum = String((total * (total + 1)) / 2);
    assert.equal(rows.n, total, 'row count');
    assert.equal(rows.distinct_ids, total, 'no event applied twice');
    assert.equal(String(rows.sum), expectedSum, 'checksum of applied rows');
    assert.equal(String(totals.sum), expectedSum, 'checksum of the running total');
    assert.equal(totals.count, total);
    return checkpointsAtKill;
  } finally {
    child.kill('SIGKILL');
    await pool.end();
  }
}

function startProjectionProcess(databaseUrl: string, lanes: number, accountPrefix: string): ChildProcess {
  const child = spawn(process.execPath, [join(__dirname, 'fixtures/account-count-projection.js')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, KAFKA_BROKERS: broker.brokers.join(','), LANES: String(lanes), ACCOUNT_PREFIX: accountPrefix },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}

/** Reads `topic` from the start until `expected` records (those `wanted`, if given) are there. */
async function readAll(kafka: ReturnType<typeof createKafka>, topic: string, expected: number, wanted?: (headers: Record<string, string>) => boolean) {
  const reader = kafka.consumer({ groupId: `reader-${Date.now()}` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  const records: { key: string; headers: Record<string, string> }[] = [];
  await reader.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      if (!wanted || wanted(headers)) records.push({ key: String(message.key), headers });
    },
  });
  await eventually(async () => records.length >= expected, `${expected} records on ${topic}`);
  // Anything more would show up by now (a second dead letter of the same event, say).
  await new Promise((resolve) => setTimeout(resolve, 300));
  await reader.disconnect();
  return records;
}

test('a projection rebuilt into an empty database replays an idle topic from its checkpoint at once, though the group has committed offsets', async () => {
  const events = Array.from({ length: 5 }, (_, i) => accountCreated(i + 1, 'idle'));
  await producer.publish(events);
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'rebuild-test', logger });
  const run = async (pool: Pool) => {
    await pool.query(CHECKPOINT_TABLE);
    await pool.query('CREATE TABLE accounts (account text PRIMARY KEY)');
    return runProjection({
      kafka, name: 'idle-rebuild', topics: [topics.accounts], database: pgProjectionDatabase(pool), logger, sessionTimeoutMs: 6_000,
      async apply(batch, tx) {
        for (const { event } of batch) {
          if (isEvent(event, AccountCreated)) await tx.query('INSERT INTO accounts VALUES ($1) ON CONFLICT DO NOTHING', [event.payload.account]);
        }
      },
    });
  };
  const idleAccounts = async (pool: Pool) =>
    (await pool.query("SELECT count(*)::int AS n FROM accounts WHERE account LIKE 'idle%'")).rows[0].n as number;

  const live = new Pool({ connectionString: await postgres.freshDatabase('idle_live') });
  const first = await run(live);
  try {
    await eventually(async () => (await idleAccounts(live)) === events.length, 'the live projection to apply the events');
  } finally {
    await first.stop(); // commits the group's offsets at the end of the topic
    await live.end();
  }

  // The rebuild: same consumer group, empty database, and nothing new arrives on the topic.
  const rebuilt = new Pool({ connectionString: await postgres.freshDatabase('idle_rebuilt') });
  const second = await run(rebuilt);
  try {
    await eventually(async () => (await idleAccounts(rebuilt)) === events.length, 'the rebuild to replay the idle topic', 20_000);
  } finally {
    await second.stop();
    await rebuilt.end();
  }
});

/**
 * A projection database with its checkpoint table and an `applied` table without a unique key
 * (applying an event twice shows as a second row), and a Kafka client for the projection.
 */
async function appliedView(name: string): Promise<{ pool: Pool; kafka: ReturnType<typeof createKafka> }> {
  const pool = new Pool({ connectionString: await postgres.freshDatabase(name) });
  await pool.query(CHECKPOINT_TABLE);
  await pool.query('CREATE TABLE applied (event_id uuid NOT NULL)');
  return { pool, kafka: createKafka({ brokers: broker.brokers, clientId: `${name}-test`, logger }) };
}

test('a throwing afterCommit is logged, and the committed batch is not applied again', async () => {
  const { pool, kafka } = await appliedView('after_commit');
  const published = Array.from({ length: 4 }, (_, i) => accountCreated(i + 1, 'notified'));
  const ids = new Set(published.map((e) => e.id));
  await producer.publish(published);
  const notified: string[] = [];
  let failures = 0;
  const projection = await runProjection({
    kafka, name: 'after-commit-view', topics: [topics.accounts], database: pgProjectionDatabase(pool), logger, sessionTimeoutMs: 6_000,
    async apply(events, tx) {
      for (const { event } of events) if (ids.has(event.id)) await tx.query('INSERT INTO applied VALUES ($1)', [event.id]);
    },
    afterCommit(events) {
      const mine = events.filter(({ event }) => ids.has(event.id));
      if (mine.length > 0 && failures === 0) {
        failures++;
        throw new Error('live delivery failed');
      }
      notified.push(...mine.map(({ event }) => event.id));
    },
  });
  try {
    await eventually(async () => failures === 1 && (await pool.query('SELECT count(*)::int AS n FROM applied')).rows[0].n >= ids.size,
      'every event to be applied');
    // Let one more event through the same partition, so a re-application of the failed batch would have happened by then.
    const marker = accountCreated(99, 'notified');
    ids.add(marker.id);
    await producer.publish(marker);
    await eventually(async () => notified.includes(marker.id), 'the next event to be delivered');
    const rows = (await pool.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM applied')).rows[0];
    assert.equal(rows.n, ids.size, 'each event applied exactly once');
    assert.equal(rows.d, ids.size);
    assert.equal(notified.length, ids.size - published.length, 'the failed notification is not repeated either');
  } finally {
    await projection.stop();
    await pool.end();
  }
});

test('events gathered into one transaction with one that cannot be applied: that one goes to the dead-letter topic, every other applies exactly once', async () => {
  const { pool, kafka } = await appliedView('poison');
  const published = Array.from({ length: 200 }, (_, i) => accountCreated(i + 1, 'gathered'));
  const poison = published[137]!;
  const ids = new Set(published.map((e) => e.id));
  // Twenty appends: twenty record batches, fetched in small batches and gathered by the linger.
  for (let i = 0; i < published.length; i += 10) await producer.publish(published.slice(i, i + 10));
  const projection = await runProjection({
    kafka, name: 'poison-view', topics: [topics.accounts], database: pgProjectionDatabase(pool), logger, sessionTimeoutMs: 6_000,
    maxBatchBytes: 4 * 1024, lingerMs: 300, retry: { initialDelayMs: 10, maxDelayMs: 50 },
    async apply(events, tx) {
      for (const { event } of events) {
        if (event.id === poison.id) throw new Error('this projection cannot apply event 138');
        if (ids.has(event.id)) await tx.query('INSERT INTO applied VALUES ($1)', [event.id]);
      }
    },
  });
  try {
    await eventually(async () => (await pool.query('SELECT count(*)::int AS n FROM applied')).rows[0].n >= ids.size - 1, 'every other event to be applied');
    // (The topic also holds an undecodable record from the first test, dead-lettered by this projection too.)
    const dead = await readAll(kafka, topics.deadLetter, 1, (h) => h['hearth-dlq-consumer'] === 'poison-view' && /could not apply/.test(h['hearth-dlq-reason']!));
    assert.equal(dead.length, 1, 'one dead letter');
    assert.match(dead[0]!.headers['hearth-dlq-reason']!, /cannot apply event 138/);
    const rows = (await pool.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d, bool_or(event_id = $1) AS poisoned FROM applied', [poison.id])).rows[0];
    assert.deepEqual(rows, { n: ids.size - 1, d: ids.size - 1, poisoned: false });
  } finally {
    await projection.stop();
    await pool.end();
  }
});

test('a lingering projection that is behind starts each full transaction at once, without waiting out its linger', async () => {
  const { pool, kafka } = await appliedView('catching_up');
  const published = Array.from({ length: 150 }, (_, i) => accountCreated(i + 1, 'behind'));
  const ids = new Set(published.map((e) => e.id));
  for (let i = 0; i < published.length; i += 10) await producer.publish(published.slice(i, i + 10));
  const LINGER_MS = 3_000;
  const transactionStarts: number[] = [];
  const projection = await runProjection({
    kafka, name: 'catching-up-view', topics: [topics.accounts], database: pgProjectionDatabase(pool), logger, sessionTimeoutMs: 6_000,
    maxBatchBytes: 4 * 1024, lingerMs: LINGER_MS,
    async apply(events, tx) {
      transactionStarts.push(Date.now());
      for (const { event } of events) if (ids.has(event.id)) await tx.query('INSERT INTO applied VALUES ($1)', [event.id]);
    },
  });
  try {
    await eventually(async () => (await pool.query('SELECT count(*)::int AS n FROM applied')).rows[0].n === ids.size, 'every event to be applied');
    assert.ok(transactionStarts.length >= 10, `several transactions of at most 4 KiB each (${transactionStarts.length})`);
    // The last one may wait for its linger: what it holds is less than a transaction's worth.
    const full = transactionStarts.slice(0, -1);
    const gaps = full.slice(1).map((startedAt, i) => startedAt - full[i]!);
    assert.ok(gaps.every((gap) => gap < LINGER_MS / 2), `full transactions follow each other at once (gaps ${gaps.join(', ')} ms)`);
  } finally {
    await projection.stop();
    await pool.end();
  }
});

test('a fresh read answers once what was appended before it is applied, or fetched without mattering to it; it hurries the projection only for what matters, and gives up at its timeout', async () => {
  const pool = new Pool({ connectionString: await postgres.freshDatabase('fresh_reads') });
  await pool.query(CHECKPOINT_TABLE);
  await pool.query('CREATE TABLE accounts (account text PRIMARY KEY)');
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'fresh-reads-test', logger });
  const database = pgProjectionDatabase(pool);
  const admin = kafka.admin();
  await admin.connect();
  // The projection lingers 3 s between transactions; a reader that waits hurries it.
  let fresh: FreshReads | null = null;
  const projection = await runProjection({
    kafka, name: 'fresh-view', topics: [topics.accounts], database, logger, sessionTimeoutMs: 6_000, lingerMs: 3_000,
    async apply(events, tx) {
      for (const { event } of events) if (isEvent(event, AccountCreated)) await tx.query('INSERT INTO accounts VALUES ($1) ON CONFLICT DO NOTHING', [event.payload.account]);
    },
    afterCommit: () => fresh?.progressed(),
  });
  fresh = new FreshReads({ admin, checkpoints: database.read, timeoutMs: 10_000 });
  try {
    for (let round = 1; round <= 3; round++) {
      const started = Date.now();
      await producer.publish(accountCreated(round, 'fresh'));
      assert.equal(await fresh.caughtUp('fresh-view', [topics.accounts], { progress: projection.lane(0), matters: () => true, hurry: () => projection.hurry(0) }), true, `round ${round}: caught up`);
      // Rounds 2 and 3 come right after a transaction: without the hurry they would wait out the 3 s linger.
      assert.ok(Date.now() - started < 2_000, `round ${round}: hurried, answered in ${Date.now() - started} ms`);
      const { rows } = await pool.query('SELECT 1 FROM accounts WHERE account = $1', [`fresh${round}@localhost`]);
      assert.equal(rows.length, 1, `round ${round}: what was appended before the read is there when it answers`);
    }
    // An event that does not matter to the read is fetched, and the read answers without waiting
    // for the 3 s linger before its transaction.
    const fourthAt = Date.now();
    await producer.publish(accountCreated(4, 'fresh'));
    const unrelated = { progress: projection.lane(0), matters: () => false, hurry: () => assert.fail('nothing pending matters: no hurry') };
    assert.equal(await fresh.caughtUp('fresh-view', [topics.accounts], unrelated), true);
    assert.ok(Date.now() - fourthAt < 2_000, 'answered once fetched');
    const { rows } = await pool.query('SELECT 1 FROM accounts WHERE account = $1', ['fresh4@localhost']);
    assert.equal(rows.length, 0, 'the event is still waiting for its transaction');

    const nobody = new FreshReads({ admin, checkpoints: database.read, timeoutMs: 300 });
    const waitedFrom = Date.now();
    assert.equal(await nobody.caughtUp('no-such-projection', [topics.accounts]), false);
    assert.ok(Date.now() - waitedFrom >= 300, 'it waited for its timeout');
    assert.equal(await nobody.caughtUp('no-such-projection', ['hearth.topic-nobody-wrote']), true, 'nothing appended: nothing to wait for');
  } finally {
    await projection.stop();
    await admin.disconnect();
    await pool.end();
  }
});
