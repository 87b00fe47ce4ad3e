import { Partitioners, type Consumer, type Kafka, type KafkaMessage, type Producer, type TopicPartition } from 'kafkajs';
import { decodeEvent, topics as topicNames, type Envelope } from '@hearth/contracts';
import type { Logger } from '@hearth/runtime';
import { isTransient } from './errors';
import { checkpoints, type ProjectionDatabase } from './projection-database';

/**
 * An event read from the log, with where it was read from. `E` is what the projection keeps of
 * the event (see ProjectionOptions.retain): the whole envelope unless it says otherwise.
 */
export interface ConsumedEvent<E = Envelope> {
  event: E;
  /** The event's type, also where the projection keeps less of the event. */
  type: string;
  topic: string;
  partition: number;
  offset: bigint;
}

export interface ProjectionOptions<Tx, E = Envelope> {
  kafka: Kafka;
  /** Consumer group id, and the checkpoint's name unless `lanes` names them, e.g. `archive`. */
  name: string;
  topics: string[];
  database: ProjectionDatabase<Tx>;
  /**
   * Checkpoint names of lanes (default: one lane, named `name`). Every lane is given every event
   * and applies them in its own transactions under its own checkpoint, side by side with the
   * others: a projection whose events split into independent parts (the archive's owners) keeps
   * several database connections busy while the log is fetched and decoded once.
   */
  lanes?: string[];
  /**
   * What the projection keeps of each decoded event until it is applied (default: all of it;
   * runProjection's overloads require it for anything else). Events wait for a linger and a
   * transaction, long enough for the garbage collector to copy everything they hold into the old
   * generation, so a projection that applies a fraction of an event's fields (the archive: what it
   * writes of a message) spends less time collecting when it keeps only those.
   */
  retain?(event: Envelope): E;
  /**
   * Applies a batch of events inside the transaction that will also record the lane's checkpoint.
   * Must be deterministic, so a rebuild from offset 0 gives the same projection.
   */
  apply(events: ConsumedEvent<E>[], tx: Tx, lane: number): Promise<void>;
  /** Called after the transaction committed (e.g. to tell live sessions); never re-run on replay. */
  afterCommit?(events: ConsumedEvent<E>[]): Promise<void> | void;
  /** Called when fetched events were queued for the lanes (see `lane`: readers waiting for them look again). */
  onQueued?(): void;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** kafkajs session timeout; tests shorten it. */
  sessionTimeoutMs?: number;
  /** Upper bound of one transaction, and of one fetched batch per partition (default 1 MiB; see LINGER_FETCH_BYTES). */
  maxBatchBytes?: number;
  /**
   * Lets events gather for up to this long (default 0): transactions start at most that often,
   * and take what was fetched meanwhile, up to maxBatchBytes. A projection that pays per
   * transaction (and per row it rewrites, as the archive's chats) trades this much lag for fewer,
   * larger transactions under steady traffic. `hurry` shortens it for a reader that waits.
   */
  lingerMs?: number;
}

export interface RetryPolicy {
  /** Attempts for an error that is not known to be transient before the record is dead-lettered. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface RunningProjection<E = Envelope> {
  /** True once the consumer has joined its group and has partitions assigned (readiness). */
  isJoined(): boolean;
  /**
   * Someone waits for what is queued (a read that must reflect the log, see FreshReads): the
   * lane's next transaction starts HURRIED_LINGER_MS after its last one instead of lingerMs.
   * Not at once: readers that keep coming would otherwise turn the linger into nothing.
   */
  hurry(lane: number): void;
  /** What this process has fetched for a lane and not yet committed (see LaneProgress). */
  lane(index: number): LaneProgress<E>;
  /** Stops fetching, finishes the batch in hand, commits, leaves the group. */
  stop(): Promise<void>;
}

/**
 * A lane as this process sees it between fetch and commit: what a reader needs to know whether
 * waiting for the lane's next transaction would change what it reads (see FreshReads).
 */
export interface LaneProgress<E = Envelope> {
  /** The next offset fetched for the lane (everything before is committed or in `pending`); undefined where this process does not consume the partition. */
  fetched(topic: string, partition: number): bigint | undefined;
  /** Events fetched for the lane and not committed yet: queued, or in the transaction under way. */
  pending(): Iterable<ConsumedEvent<E>>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, initialDelayMs: 100, maxDelayMs: 5_000 };
/**
 * With a linger, a lane gathers its transaction from fetches of at most LINGER_FETCH_BYTES per
 * partition: the client copies each answer into one buffer, and buffers of several MiB cost the
 * archive about 5% of its time (fresh memory from the kernel each time) where 1 MiB ones cost a
 * fraction of that. A fetch returns when half that is there (the most an answer can hold may stop
 * short of it by a batch), or after FETCH_WAIT_MS: fewer fetch round trips, while a reader that
 * hurries the projection waits for at most one such fetch.
 */
const LINGER_FETCH_BYTES = 1024 * 1024;
const FETCH_WAIT_MS = 50;
/** How soon after its last transaction a hurried lane starts the next one (see `hurry`). */
const HURRIED_LINGER_MS = 100;

/** A fetched record as a lane keeps it until applied: its value is what a dead letter carries. */
type FetchedRecord = Pick<KafkaMessage, 'offset' | 'value'>;

/**
 * A fetched batch (the part a lane has not applied yet), decoded, waiting for its transaction.
 * It keeps neither kafkajs's batch nor its messages (headers, keys, timestamps), which would
 * live as long, and cost as much garbage collection, as the events (see `retain`).
 */
interface QueuedBatch<E> {
  batch: TopicPartition;
  records: FetchedRecord[];
  decoded: ConsumedEvent<E>[];
  /** Records that could not be decoded, which this lane sends to the dead-letter topic. */
  rejected: { record: FetchedRecord; reason: string }[];
  nextOffset: bigint;
  bytes: number;
}

/** One lane: its checkpoint's name, what waits for its next transaction, and its transaction loop. */
interface Lane<E> {
  index: number;
  name: string;
  queue: QueuedBatch<E>[];
  applying: Promise<void> | null;
  /** Taken from the queue by the transaction under way, until it commits. */
  taken: QueuedBatch<E>[];
  /** Resolved when the lane next takes batches from its queue (or stops applying). */
  whenTaken: { promise: Promise<void>; resolve: () => void } | null;
  lastStart: number;
  /** A reader waits for this lane: its linger is HURRIED_LINGER_MS until its next transaction starts. */
  hurried: boolean;
  /** Times the lane's linger again (after `hurried` changed), while it lingers. */
  relinger: (() => void) | null;
  /** Next offset committed by this lane, per topic:partition (for the group offset hint). */
  committed: Map<string, bigint>;
}

/**
 * Runs a projection: consumes its topics and applies each batch in one database transaction
 * together with the checkpoint (next offset per partition). After a restart or a rebalance it
 * resumes from the checkpoint in its own database, not from Kafka's committed offsets (which are
 * committed too, but only as a hint for tooling): a projection dropped for a rebuild starts
 * again at offset 0 even though the group has committed offsets. The seek happens as soon as a
 * partition is assigned, not when it next delivers a batch, so the rebuild of an idle topic starts
 * at once.
 *
 * Group commit: the next batch is fetched and decoded while a transaction runs, and the batches
 * waiting (of any partition, in the order consumed) are applied together by the next transaction,
 * one transaction at a time per lane. Lanes (see `lanes`) each keep their own checkpoint, so they
 * may stand at different offsets: fetching resumes from the earliest, and each lane is given only
 * what it has not applied.
 *
 * Failures: transient ones (database briefly unreachable) are retried with backoff without
 * limit — the partition waits rather than losing events. Anything else (an event that breaks its
 * contract, a bug) is isolated to the one record that causes it, which goes to the dead-letter
 * topic with the reason, and the partition moves on.
 */
export function runProjection<Tx>(options: ProjectionOptions<Tx>): Promise<RunningProjection>;
export function runProjection<Tx, E>(options: ProjectionOptions<Tx, E> & Required<Pick<ProjectionOptions<Tx, E>, 'retain'>>): Promise<RunningProjection<E>>;
export async function runProjection<Tx, E>(options: ProjectionOptions<Tx, E>): Promise<RunningProjection<E>> {
  const { kafka, name, database, logger } = options;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
  const lingerFetchBytes = Math.min(maxBatchBytes, LINGER_FETCH_BYTES);
  const retain = options.retain ?? ((event: Envelope) => event as E);
  const lanes: Lane<E>[] = (options.lanes ?? [name]).map((laneName, index) => ({
    index, name: laneName, queue: [], taken: [], applying: null, whenTaken: null, lastStart: 0, hurried: false, relinger: null, committed: new Map(),
  }));
  const consumer: Consumer = kafka.consumer({
    groupId: name,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
    allowAutoTopicCreation: true,
    ...(options.lingerMs
      ? { maxBytesPerPartition: lingerFetchBytes, minBytes: Math.floor(lingerFetchBytes / 2), maxWaitTimeInMs: Math.min(options.lingerMs, FETCH_WAIT_MS) }
      : { maxBytesPerPartition: maxBatchBytes }),
  });
  const deadLetters: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([consumer.connect(), deadLetters.connect()]);

  let joined = false;
  // Next offset to apply per partition, one per lane: the checkpoints, loaded from the database
  // (and sought to) when the partition is assigned, then advanced as batches are queued.
  let checkpointLoads = new Map<string, Promise<bigint[]>>();
  let positions = new Map<string, bigint[]>();
  const seeked = new Set<string>();
  const allApplied = () => Promise.all(lanes.map((lane) => lane.applying));
  const seekToCheckpoint = async (topic: string, partition: number): Promise<bigint[]> => {
    await allApplied();
    const next = await Promise.all(lanes.map(async (lane) =>
      (await withTransientRetry(() => checkpoints.load(database.read, lane.name, topic, partition), retry, logger)) ?? 0n));
    const from = earliest(next);
    logger.info({ topic, partition, from: from.toString() }, 'partition assigned: resuming from the projection checkpoint');
    // kafkajs drops any fetch response for a partition with a pending seek, so nothing fetched
    // from the group's committed offset is applied after this. If retention removed the offset,
    // the fetch restarts at the earliest one still there (subscribed fromBeginning).
    consumer.seek({ topic, partition, offset: from.toString() });
    return next;
  };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joined = true;
    positions = new Map();
    seeked.clear();
    checkpointLoads = new Map();
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      for (const partition of partitions) {
        const load = seekToCheckpoint(topic, partition);
        // Awaited by the partition's first batch, which fails (and is retried by kafkajs) if this did.
        load.catch((error: unknown) => logger.error({ err: error, topic, partition }, 'could not load the projection checkpoint'));
        checkpointLoads.set(`${topic}:${partition}`, load);
      }
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    logger.error({ err: payload.error, restart: payload.restart }, 'projection consumer crashed');
  });

  for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: true });

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const tp = `${batch.topic}:${batch.partition}`;
      let next = positions.get(tp);
      if (next === undefined) {
        const loads = checkpointLoads;
        let load = loads.get(tp);
        if (load === undefined) loads.set(tp, (load = seekToCheckpoint(batch.topic, batch.partition)));
        try {
          next = [...(await load)];
        } catch (error) {
          loads.delete(tp);
          throw error;
        }
        positions.set(tp, next);
        const first = BigInt(batch.firstOffset() ?? batch.highWatermark);
        // A batch fetched from Kafka's group offset before the seek took effect: the group is
        // ahead of our database (the projection was dropped for a rebuild). Skip it and seek
        // again. Only once per assignment: if retention removed those offsets, the fetch
        // restarts at the earliest one still there, and that is where we continue.
        if (first > earliest(next) && !seeked.has(tp)) {
          seeked.add(tp);
          positions.delete(tp);
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: earliest(next).toString() });
          return;
        }
      }
      const from = earliest(next);
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= from).map(({ offset, value }): FetchedRecord => ({ offset, value }));
      if (fresh.length === 0 || !isRunning() || isStale()) return;
      const newNext = BigInt(fresh[fresh.length - 1]!.offset) + 1n;
      const where: TopicPartition = { topic: batch.topic, partition: batch.partition };
      const { decoded, rejected } = decodeBatch(fresh, where);
      // A record that cannot be decoded is dead-lettered once, by the first lane given it.
      let undeadLettered = rejected;
      for (const lane of lanes) {
        const start = next[lane.index]!;
        if (start >= newNext) continue;
        next[lane.index] = newNext;
        const unapplied = (m: { offset: string | bigint }) => BigInt(m.offset) >= start;
        const records = start === from ? fresh : fresh.filter(unapplied);
        queueFor(lane, {
          batch: where, records, nextOffset: newNext,
          decoded: start === from ? decoded : decoded.filter(unapplied),
          rejected: undeadLettered.filter((r) => unapplied(r.record)),
          bytes: records.reduce((n, r) => n + (r.value?.length ?? 0), 0),
        });
        undeadLettered = undeadLettered.filter((r) => !unapplied(r.record));
      }
      resolveOffset(fresh[fresh.length - 1]!.offset);
      options.onQueued?.();
      // Fetching runs ahead of the database by what waits here, no further: a consumer fetching
      // freely while transactions run made every event of push and read-state slower. Without a
      // linger that is one batch; a lingering lane gathers up to one transaction's worth. Fetching
      // goes on as soon as the lane's next transaction takes them, not when that one ends.
      for (const lane of lanes) while (lane.applying && isFull(lane)) await untilTaken(lane);
      await heartbeat();
    },
  });

  function decodeBatch(records: FetchedRecord[], where: TopicPartition): Pick<QueuedBatch<E>, 'decoded' | 'rejected'> {
    const decoded: ConsumedEvent<E>[] = [];
    const rejected: QueuedBatch<E>['rejected'] = [];
    for (const record of records) {
      try {
        const event = decodeEvent(record.value);
        decoded.push({ event: retain(event), type: event.type, topic: where.topic, partition: where.partition, offset: BigInt(record.offset) });
      } catch (error) {
        rejected.push({ record, reason: (error as Error).message });
      }
    }
    return { decoded, rejected };
  }

  function isFull(lane: Lane<E>): boolean {
    if (lane.queue.length <= 1) return false;
    return !options.lingerMs || holdsFullTransaction(lane);
  }

  function holdsFullTransaction(lane: Lane<E>): boolean {
    return lane.queue.reduce((bytes, q) => bytes + q.bytes, 0) >= maxBatchBytes;
  }

  function untilTaken(lane: Lane<E>): Promise<void> {
    if (!lane.whenTaken) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      lane.whenTaken = { promise, resolve };
    }
    return lane.whenTaken.promise;
  }

  /**
   * Waits until the lane may start its next transaction: lingerMs after its last one, or less when
   * hurried, or as soon as a full transaction's worth is queued (a lane catching up, after a
   * restart or in a rebuild, gains nothing by waiting: its fetches stop at that much).
   */
  function linger(lane: Lane<E>): Promise<void> {
    const lingerMs = options.lingerMs ?? 0;
    const until = () => lane.lastStart + (lane.hurried ? Math.min(lingerMs, HURRIED_LINGER_MS) : lingerMs);
    if (until() <= Date.now() || holdsFullTransaction(lane)) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        clearTimeout(timer);
        const wait = until() - Date.now();
        if (wait > 0 && !holdsFullTransaction(lane)) {
          timer = setTimeout(check, wait);
          return;
        }
        lane.relinger = null;
        resolve();
      };
      lane.relinger = check;
      check();
    });
  }

  function tellTaken(lane: Lane<E>): void {
    lane.whenTaken?.resolve();
    lane.whenTaken = null;
  }

  function queueFor(lane: Lane<E>, queued: QueuedBatch<E>): void {
    lane.queue.push(queued);
    lane.applying ??= applyQueued(lane);
    lane.relinger?.();
  }

  /**
   * Applies what is queued for the lane, one transaction at a time, until nothing is. `applying`
   * is cleared in the same turn as the queue is found empty, so a batch queued after that starts
   * a new loop.
   */
  async function applyQueued(lane: Lane<E>): Promise<void> {
    await Promise.resolve(); // never done synchronously: the caller's `applying = …` comes first
    try {
      while (lane.queue.length > 0) {
        await linger(lane);
        lane.lastStart = Date.now();
        lane.hurried = false;
        let count = 0;
        for (let bytes = 0; count < lane.queue.length && (count === 0 || bytes + lane.queue[count]!.bytes <= maxBatchBytes); count++) bytes += lane.queue[count]!.bytes;
        const taken = (lane.taken = lane.queue.splice(0, count));
        tellTaken(lane);
        try {
          for (const q of taken) for (const { record, reason } of q.rejected) await deadLetter(lane, q.batch, record, reason);
          await applyTogether(lane, taken);
        } catch (error) {
          // Not applied (a dead letter could not be written, or the projection is stopping): forget
          // the positions of these partitions and fetch them again from the last applied offsets.
          logger.error({ err: error, lane: lane.name }, 'batches not applied; fetching them again');
          for (const q of [...taken, ...lane.queue]) {
            const tp = `${q.batch.topic}:${q.batch.partition}`;
            if (!positions.delete(tp)) continue;
            checkpointLoads.delete(tp);
            seeked.delete(tp);
            try {
              consumer.seek({ topic: q.batch.topic, partition: q.batch.partition, offset: q.records[0]!.offset });
            } catch {
              // Stopping: the next start resumes from the checkpoint anyway.
            }
          }
          lane.queue = [];
          return;
        } finally {
          lane.taken = [];
        }
        hintGroupOffsets(lane, taken);
      }
    } finally {
      lane.applying = null;
      tellTaken(lane);
    }
  }

  /**
   * Kafka's group offsets are only a hint for tooling (see above): the offset every lane has
   * committed. A failure loses nothing. Not awaited: on the broker connection it waits behind the
   * fetch in flight, which may be waiting for data.
   */
  function hintGroupOffsets(lane: Lane<E>, applied: QueuedBatch<E>[]): void {
    const hints = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const { batch, nextOffset } of applied) {
      const tp = `${batch.topic}:${batch.partition}`;
      lane.committed.set(tp, nextOffset);
      const everyLane = lanes.map((l) => l.committed.get(tp));
      if (everyLane.every((offset) => offset !== undefined)) {
        hints.set(tp, { topic: batch.topic, partition: batch.partition, offset: earliest(everyLane as bigint[]).toString() });
      }
    }
    if (hints.size > 0) void consumer.commitOffsets([...hints.values()]).catch(() => undefined);
  }

  /** One transaction for all the batches; if it fails, each batch on its own, then each event (applyAlone). */
  async function applyTogether(lane: Lane<E>, batches: QueuedBatch<E>[]): Promise<void> {
    const events = batches.flatMap((q) => q.decoded);
    // A partition's last batch holds its checkpoint.
    const reached = [...new Map(batches.map((q) => [`${q.batch.topic}:${q.batch.partition}`, { topic: q.batch.topic, partition: q.batch.partition, nextOffset: q.nextOffset }])).values()];
    try {
      await withRetry(() => commit(lane, events, reached), retry, logger);
    } catch (error) {
      if (batches.length === 1) return applyAlone(lane, batches[0]!, error);
      logger.warn({ err: error, lane: lane.name, batches: batches.length, events: events.length }, 'batches failed together; applying them one at a time');
      for (const q of batches) await applyTogether(lane, [q]);
      return;
    }
    await notifyCommitted(events);
  }

  function applyAlone(lane: Lane<E>, q: QueuedBatch<E>, error: unknown): Promise<void> {
    logger.warn({ err: error, lane: lane.name, topic: q.batch.topic, partition: q.batch.partition, events: q.decoded.length },
      'batch failed; applying its events one by one to isolate the cause');
    return applyOneByOne(lane, q);
  }

  /** One by one: the record that fails again goes to the dead-letter topic, the rest apply. */
  async function applyOneByOne(lane: Lane<E>, { decoded, records, batch }: QueuedBatch<E>): Promise<void> {
    for (const consumed of decoded) {
      const after = consumed.offset + 1n;
      try {
        await withRetry(() => commit(lane, [consumed], [{ topic: batch.topic, partition: batch.partition, nextOffset: after }]), retry, logger);
      } catch (error) {
        const record = records.find((r) => BigInt(r.offset) === consumed.offset)!;
        await deadLetter(lane, batch, record, `${lane.name} could not apply ${consumed.type}: ${(error as Error).message}`);
        await withTransientRetry(() => commit(lane, [], [{ topic: batch.topic, partition: batch.partition, nextOffset: after }]), retry, logger);
        continue;
      }
      await notifyCommitted([consumed]);
    }
  }

  /**
   * afterCommit's side effects (telling live sessions) come after the commit and are not part of
   * it: when they fail, the events stay applied and are not re-applied or dead-lettered, which
   * would duplicate or lose what the transaction already recorded. Logged, and the stream moves on.
   */
  async function notifyCommitted(events: ConsumedEvent<E>[]): Promise<void> {
    if (events.length === 0 || !options.afterCommit) return;
    try {
      await options.afterCommit(events);
    } catch (error) {
      const first = events[0]!;
      logger.error({ err: error, topic: first.topic, partition: first.partition, fromOffset: first.offset.toString(), events: events.length },
        'afterCommit failed; the batch stays committed and is not applied again');
    }
  }

  /** Applies the events and moves the lane's checkpoints in one transaction. */
  function commit(lane: Lane<E>, events: ConsumedEvent<E>[], reached: { topic: string; partition: number; nextOffset: bigint }[]): Promise<void> {
    return database.transaction(async (tx) => {
      if (events.length > 0) await options.apply(events, tx, lane.index);
      for (const { topic, partition, nextOffset } of reached) await checkpoints.save(database.sql(tx), lane.name, topic, partition, nextOffset);
    });
  }

  async function deadLetter(lane: Lane<E>, batch: TopicPartition, record: FetchedRecord, reason: string): Promise<void> {
    logger.error({ topic: batch.topic, partition: batch.partition, offset: record.offset, reason }, 'event sent to the dead-letter topic');
    await withTransientRetry(() => deadLetters.send({
      topic: topicNames.deadLetter,
      acks: -1,
      messages: [{
        key: `${batch.topic}/${batch.partition}/${record.offset}`,
        value: record.value,
        headers: {
          'hearth-dlq-consumer': lane.name,
          'hearth-dlq-reason': reason.slice(0, 1000),
          'hearth-dlq-topic': batch.topic,
          'hearth-dlq-partition': String(batch.partition),
          'hearth-dlq-offset': record.offset,
        },
      }],
    }), retry, logger);
  }

  return {
    isJoined: () => joined,
    lane: (index) => {
      const lane = lanes[index];
      if (!lane) throw new RangeError(`no lane ${index}`);
      return {
        fetched: (topic, partition) => positions.get(`${topic}:${partition}`)?.[index],
        *pending() {
          for (const q of [...lane.taken, ...lane.queue]) yield* q.decoded;
        },
      };
    },
    hurry: (index) => {
      const lane = lanes[index];
      if (!lane) return;
      lane.hurried = true;
      lane.relinger?.();
    },
    async stop() {
      await consumer.disconnect();
      await allApplied();
      await deadLetters.disconnect();
      joined = false;
    },
  };
}

const earliest = (offsets: readonly bigint[]): bigint => offsets.reduce((a, b) => (b < a ? b : a));

/** Retries transient errors without limit and anything else `attempts` times, with jittered backoff. */
async function withRetry<T>(work: () => Promise<T>, policy: RetryPolicy, logger: Logger): Promise<T> {
  for (let attempt = 1, failures = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const transient = isTransient(error);
      if (!transient) failures++;
      if (!transient && failures >= policy.attempts) throw error;
      const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt - 1, 10));
      logger.warn({ err: error, attempt, transient, delayMs: delay }, 'retrying after a failure');
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
    }
  }
}

function withTransientRetry<T>(work: () => Promise<T>, policy: RetryPolicy, logger: Logger): Promise<T> {
  return withRetry(work, { ...policy, attempts: 1 }, logger);
}
