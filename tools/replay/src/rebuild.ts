import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { topics } from '@hearth/contracts';
import { ensureDatabase, resetDatabase } from '@hearth/database';
import { CheckpointPositions } from '@hearth/kafka';
import { startService } from '@hearth/testing';

/**
 * The projections hearth-replay can rebuild: the app whose compiled main runs the projection
 * (the same code as live, nothing re-implemented here), the topics it consumes and the env
 * variable that names its consumer group.
 */
export const PROJECTIONS = {
  archive: {
    app: 'archive',
    topics: [topics.messages, topics.accounts, topics.archive],
    groupVariable: 'HEARTH_ARCHIVE_CONSUMER_GROUP',
    topicsVariable: 'HEARTH_ARCHIVE_TOPICS',
    // Deletions and preferences before the messages they judge (see apps/archive config).
    phases: [[topics.accounts, topics.archive], [topics.messages, topics.accounts, topics.archive]],
    // A rebuild must only replay: no new events of its own.
    extraEnv: { HEARTH_ARCHIVE_RETENTION_DAYS: '0' },
  },
} as const;
export type ProjectionName = keyof typeof PROJECTIONS;

interface PartitionEnd { topic: string; partition: number; high: bigint }

const PROGRESS_POLL_MS = 200;
const PROGRESS_LOG_MS = 5_000;

export interface RebuildOptions {
  projection: ProjectionName;
  databaseUrl: string;
  brokers: string[];
  /** Gives up when not caught up within this time. */
  timeoutMs: number;
  log(line: string): void;
}

export interface RebuildReport { events: number; seconds: number; eventsPerSecond: number; group: string }

/**
 * Drops the projection's schema, runs its service (phase by phase) against the emptied database under a fresh
 * consumer group (its checkpoints are gone, so it consumes from offset 0), waits until its
 * checkpoints reach the end offsets the topics had when the rebuild began, and stops it.
 */
export async function rebuild(options: RebuildOptions): Promise<RebuildReport> {
  const spec = PROJECTIONS[options.projection];
  await ensureDatabase(options.databaseUrl);
  await resetDatabase(options.databaseUrl);

  const kafka = new Kafka({ clientId: 'hearth-replay', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // The end of each partition when the rebuild began: where the rebuilt projection must get to.
  const targets: PartitionEnd[] = [];
  let events = 0n;
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of spec.topics.filter((t) => existing.has(t))) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const high = BigInt(p.high);
        if (high > BigInt(p.low)) targets.push({ topic, partition: p.partition, high });
        events += high - BigInt(p.low);
      }
    }
  } finally {
    await admin.disconnect();
  }
  options.log(`rebuilding ${options.projection}: ${events} events in ${targets.length} partitions of ${spec.topics.join(', ')}`);

  const group = `${options.projection}-rebuild-${Date.now()}`;
  const started = process.hrtime.bigint();
  // Phase by phase: the topics that decide what may be archived first, then everything.
  for (const phase of spec.phases) {
    options.log(`  phase: ${phase.join(', ')}`);
    await runUntilCaughtUp(spec, phase, targets.filter((t) => (phase as readonly string[]).includes(t.topic)), group, events, options);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { events: Number(events), seconds, eventsPerSecond: Number(events) / seconds, group };
}

async function runUntilCaughtUp(
  spec: (typeof PROJECTIONS)[ProjectionName], phase: readonly string[], targets: readonly PartitionEnd[], group: string, events: bigint, options: RebuildOptions,
): Promise<void> {
  const service = await startService({
    app: spec.app,
    env: {
      DATABASE_URL: options.databaseUrl, HEARTH_KAFKA_BROKERS: options.brokers.join(','),
      [spec.groupVariable]: group, [spec.topicsVariable]: phase.join(','), ...spec.extraEnv,
    },
    startTimeoutMs: options.timeoutMs,
  });
  const db = new Client({ connectionString: options.databaseUrl });
  await db.connect();
  try {
    const deadline = Date.now() + options.timeoutMs;
    // The projection's consumers (one per shard), as the service reports them.
    const { consumers } = await service.waitForLog((line) => Array.isArray(line.consumers), options.timeoutMs) as { consumers: string[] };
    let lastLog = Date.now();
    for (;;) {
      const positions = await CheckpointPositions.read(db, consumers);
      const behind = targets.filter(({ topic, partition, high }) =>
        consumers.some((consumer) => positions.nextOffset(consumer, topic, partition) < high));
      if (behind.length === 0) break;
      if (Date.now() > deadline) throw new Error(`not caught up within ${options.timeoutMs} ms: behind on ${behind.map((t) => `${t.topic}:${t.partition}`).join(', ')}`);
      if (Date.now() - lastLog > PROGRESS_LOG_MS) {
        lastLog = Date.now();
        options.log(`  … ${positions.appliedByAll()} / ${events} events applied`);
      }
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_POLL_MS));
    }
  } finally {
    await db.end();
    const code = await service.stop();
    if (code !== 0) options.log(`warning: the ${spec.app} service exited with ${code}; its last lines:\n${service.logs().slice(-20).join('\n')}`);
  }
}
