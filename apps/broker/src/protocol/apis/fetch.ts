/**
 * Fetch (key 1), v4-v11. https://kafka.apache.org/protocol#The_Messages_Fetch
 * Stored batches are sent as they are on disk. A fetch with fewer than min_bytes available
 * waits (long poll) until a durable append brings enough, or max_wait_ms passes.
 * Incremental fetch sessions (KIP-227) are not offered: every answer has session id 0, which
 * tells clients to keep sending full requests.
 */
import { Writer } from '../codec';
import type { ApiModule, BrokerServices } from '../api';
import { ErrorCode, KafkaError, type ErrorCodeValue } from '../error-codes';

/** Upper bound on a long poll, whatever the client asks. */
const MAX_WAIT_MS = 60_000;
/** Upper bound on one answer, whatever the client asks (Kafka's fetch.max.bytes default, 55 MiB). */
const MAX_FETCH_BYTES = 55 * 1024 * 1024;

interface PartitionFetch {
  index: number;
  fetchOffset: number;
  maxBytes: number;
}
interface PartitionResult {
  index: number;
  errorCode: ErrorCodeValue;
  highWatermark: number;
  logStartOffset: number;
  records: Buffer[];
}

async function collect(
  broker: BrokerServices,
  topics: { name: string; partitions: PartitionFetch[] }[],
  maxBytes: number,
): Promise<{ results: { name: string; partitions: PartitionResult[] }[]; bytes: number; failed: boolean }> {
  let bytes = 0;
  let failed = false;
  const results = [];
  for (const t of topics) {
    const partitions: PartitionResult[] = [];
    for (const p of t.partitions) {
      const log = broker.topics.get(t.name)?.partitions[p.index];
      const result: PartitionResult = { index: p.index, errorCode: ErrorCode.NONE, highWatermark: -1, logStartOffset: -1, records: [] };
      partitions.push(result);
      if (!log) {
        result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        failed = true;
        continue;
      }
      result.highWatermark = log.highWatermark;
      result.logStartOffset = log.logStartOffset;
      // The first partition with data may exceed max_bytes by one batch, as in Kafka (KIP-74).
      const budget = bytes === 0 ? Math.max(p.maxBytes, 1) : Math.min(p.maxBytes, maxBytes - bytes);
      if (budget <= 0) continue;
      try {
        result.records = await log.read(p.fetchOffset, budget);
        bytes += result.records.reduce((n, b) => n + b.length, 0);
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error;
        result.errorCode = error.code;
        failed = true;
      }
    }
    results.push({ name: t.name, partitions });
  }
  return { results, bytes, failed };
}

export const fetch: ApiModule = {
  key: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 11,
  async handle({ version, body, broker, signal }) {
    body.int32(); // replica_id
    const maxWaitMs = Math.min(Math.max(body.int32(), 0), MAX_WAIT_MS);
    const minBytes = body.int32();
    const maxBytes = Math.min(body.int32(), MAX_FETCH_BYTES);
    body.int8(); // isolation_level: no transactions, so read_committed sees the same as read_uncommitted
    const sessionId = version >= 7 ? body.int32() : 0;
    if (version >= 7) body.int32(); // session_epoch
    const topics = body.array((r) => ({
      name: r.string(),
      partitions: r.array((r): PartitionFetch => {
        const index = r.int32();
        if (version >= 9) r.int32(); // current_leader_epoch
        const fetchOffset = r.int64();
        if (version >= 5) r.int64(); // log_start_offset (followers only)
        return { index, fetchOffset, maxBytes: Math.min(r.int32(), MAX_FETCH_BYTES) };
      }),
    }));
    if (version >= 7) body.array((r) => (r.string(), r.array((r) => r.int32())));
    if (version >= 11) body.string(); // rack_id

    let errorCode: ErrorCodeValue = ErrorCode.NONE;
    let outcome = { results: [] as { name: string; partitions: PartitionResult[] }[], bytes: 0, failed: false };
    if (sessionId !== 0) {
      errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
    } else {
      const deadline = Date.now() + maxWaitMs;
      const watch = new AppendWatch(broker, topics);
      try {
        watch.arm();
        outcome = await collect(broker, topics, maxBytes);
        while (!outcome.failed && outcome.bytes < minBytes && Date.now() < deadline && !signal.aborted) {
          await watch.wait(deadline, signal);
          watch.arm();
          outcome = await collect(broker, topics, maxBytes);
        }
      } finally {
        watch.close();
      }
    }

    const w = new Writer().int32(0);
    if (version >= 7) w.int16(errorCode).int32(0);
    w.array(outcome.results, (w, t) =>
      w.string(t.name).array(t.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.highWatermark).int64(p.highWatermark); // last_stable_offset
        if (version >= 5) w.int64(p.logStartOffset);
        w.array([], () => undefined); // aborted_transactions
        if (version >= 11) w.int32(-1); // preferred_read_replica
        w.int32(p.records.reduce((n, b) => n + b.length, 0));
        for (const batch of p.records) w.raw(batch);
      }),
    );
    return w;
  },
};

/**
 * Watches the fetched partitions for durable appends. It is armed before each read, so an
 * append that lands while the read is under way is not missed (the next wait returns at once).
 */
class AppendWatch {
  private fired = false;
  private wake: (() => void) | null = null;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(broker: BrokerServices, topics: { name: string; partitions: PartitionFetch[] }[]) {
    for (const t of topics) {
      for (const p of t.partitions) {
        const log = broker.topics.get(t.name)?.partitions[p.index];
        if (log) this.unsubscribe.push(log.onDurable(() => this.fire()));
      }
    }
  }

  private fire(): void {
    this.fired = true;
    this.wake?.();
  }

  /** Forgets earlier appends; call right before reading. */
  arm(): void {
    this.fired = false;
  }

  /** Resolves on an append since arm(), at the deadline, or on disconnect. */
  wait(deadline: number, signal: AbortSignal): Promise<void> {
    if (this.fired || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      signal.addEventListener('abort', done);
      this.wake = done;
    });
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }
}
