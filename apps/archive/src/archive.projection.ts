import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Counter } from 'prom-client';
import {
  AccountDeleted, ArchivePreferencesChanged, ArchiveRetentionApplied, isEvent, MessageAccepted, type Envelope,
} from '@hearth/contracts';
import { createKafka, FreshReads, runProjection, type ConsumedEvent, type RunningProjection } from '@hearth/kafka';
import { Readiness, SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { ArchiveDatabase, transactionSql } from './archive-database';
import { ArchiveWriter, type TransactionSql } from './archive-writer';
import { ARCHIVE_CONFIG, type ArchiveConfig } from './config';
import { ArchiveError } from './domain/archive-error';
import type { AcceptedMessage } from './domain/ingest-plan';
import { isWholeShardSet, OwnerShard, unexpectedConsumers } from './domain/owner-shards';

/**
 * An event as the archive keeps it from its fetch until its transaction: a message as only what
 * is archived of it, anything else whole. Fetched events wait for a linger and a transaction, long
 * enough for the garbage collector to copy them into the old generation; keeping less of the
 * messages (no body, client id, chat key, envelope) took a sixth off that collection.
 */
type ArchiveEvent = { message: AcceptedMessage } | { other: Envelope };

function retained(event: Envelope): ArchiveEvent {
  if (!isEvent(event, MessageAccepted)) return { other: event };
  const { stanzaId, sender, senderFullJid, recipient, to, stanza, acceptedAt } = event.payload;
  return { message: { stanzaId, sender, senderFullJid, recipient, to, stanza, acceptedAt } };
}

const archivedTotal = new Counter({ name: 'hearth_archive_messages_archived_total', help: 'Archive entries written (two per message: sender and recipient).' });

/**
 * Consumes the log into the archive projection: hearth.messages (MessageAccepted → both users'
 * archives), hearth.accounts (AccountDeleted) and hearth.archive (preferences, retention).
 * Each consumed batch is one transaction with its checkpoint; apply uses event data only, so a
 * rebuild from offset 0 (`hearth-replay rebuild archive`) gives the same rows.
 *
 * It runs as HEARTH_ARCHIVE_SHARDS shards (see domain/owner-shards.ts), the lanes of one consumer:
 * one PostgreSQL transaction at a time left the database idle while this process planned the
 * next one, and one consumer per shard fetched and decoded every record once per shard.
 */
@Injectable()
export class ArchiveProjection implements OnApplicationBootstrap, OnModuleDestroy {
  private running: RunningProjection<ArchiveEvent> | null = null;
  private fresh: FreshReads | null = null;
  private shards: OwnerShard[] = [];
  private stopAdmin: (() => Promise<void>) | null = null;

  constructor(
    private readonly database: ArchiveDatabase,
    private readonly readiness: Readiness,
    @Inject(ARCHIVE_CONFIG) private readonly config: ArchiveConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('database', () => this.database.isReachable());
    this.readiness.register('consumer', () => this.running?.isJoined() ?? false);
    const group = this.config.HEARTH_ARCHIVE_CONSUMER_GROUP;
    const shards = (this.shards = OwnerShard.all(this.config.HEARTH_ARCHIVE_SHARDS));
    const names = shards.map((s) => s.checkpointName(group));
    const stale = unexpectedConsumers(group, shards, await this.database.checkpointedConsumers());
    if (stale.length > 0) {
      if (!isWholeShardSet(group, stale) || !(await this.database.carryOverCheckpoints(stale, names))) {
        throw new Error(`this archive was built by ${stale.join(', ')}, not by ${shards.length} shard(s) of ${group}, and they `
          + 'stopped at different positions: changing HEARTH_ARCHIVE_SHARDS now needs a rebuild (hearth-replay rebuild archive)');
      }
      this.logger.info({ from: stale, to: names }, 'shard count changed: the new shards resume where the old ones all stopped');
    }
    const kafka = createKafka({ brokers: this.config.HEARTH_KAFKA_BROKERS, clientId: 'archive', logger: this.logger });
    const writers = shards.map((shard) => new ArchiveWriter(this.config.HEARTH_ARCHIVE_CONVERSATION_GAP_MINUTES * 60_000, shard));
    this.running = await runProjection({
      kafka,
      name: group,
      lanes: names,
      topics: this.config.HEARTH_ARCHIVE_TOPICS,
      database: this.database.projectionDatabase(),
      logger: this.logger,
      // Larger batches mean fewer transactions, and a chat's several messages in one batch update
      // its chat, conversation and tracker rows once.
      maxBatchBytes: this.config.HEARTH_ARCHIVE_MAX_BATCH_BYTES,
      lingerMs: this.config.HEARTH_ARCHIVE_BATCH_LINGER_MS,
      retain: retained,
      apply: (events, tx, lane) => this.apply(writers[lane]!, events, transactionSql(tx)),
      afterCommit: () => this.fresh?.progressed(),
      onQueued: () => this.fresh?.progressed(),
    });
    const admin = kafka.admin();
    await admin.connect();
    this.stopAdmin = () => admin.disconnect();
    this.fresh = new FreshReads({ admin, checkpoints: this.database.projectionDatabase().read, timeoutMs: this.config.HEARTH_ARCHIVE_READ_WAIT_MS });
    // hearth-replay and the benchmarks wait for these consumers' checkpoints.
    this.logger.info({ consumers: names }, 'archive projection consuming');
  }

  /**
   * Waits until every event of `topics` appended before the call that concerns the owner is in
   * the owner's shard, so what the owner reads next reflects the log as of the request (see
   * FreshReads): a message accepted just before a client's sync is in that sync. A shard that does
   * not get there within HEARTH_ARCHIVE_READ_WAIT_MS (far behind, or not running) makes the read a
   * `wait` error rather than a page with a hole the client would never fill.
   */
  async caughtUpFor(owner: string, topics: readonly string[]): Promise<void> {
    const consumed = topics.filter((topic) => this.config.HEARTH_ARCHIVE_TOPICS.includes(topic));
    const shard = this.shards.find((s) => s.owns(owner));
    const { fresh, running } = this;
    if (fresh && running && shard) {
      const local = { progress: running.lane(shard.index), matters: ({ event }: ConsumedEvent<ArchiveEvent>) => concerns(event, owner), hurry: () => running.hurry(shard.index) };
      if (await fresh.caughtUp(shard.checkpointName(this.config.HEARTH_ARCHIVE_CONSUMER_GROUP), consumed, local)) return;
    }
    throw new ArchiveError('resource-constraint', 'the archive is catching up with the log; try again shortly');
  }

  private async apply(writer: ArchiveWriter, events: ConsumedEvent<ArchiveEvent>[], tx: TransactionSql): Promise<void> {
    // Consecutive messages are archived together: a constant number of statements per run.
    let messages: AcceptedMessage[] = [];
    const flush = async () => {
      if (messages.length === 0) return;
      archivedTotal.inc(await writer.archiveMessages(tx, messages));
      messages = [];
    };
    for (const { event: kept, topic, partition, offset } of events) {
      if ('message' in kept) {
        messages.push(kept.message);
        continue;
      }
      await flush();
      const event = kept.other;
      if (isEvent(event, AccountDeleted)) {
        this.logger.info({ eventId: event.id, jid: event.payload.account }, 'account deleted: removing its archive');
        await writer.deleteAccount(tx, event.payload.account, new Date(event.occurredAt));
      } else if (isEvent(event, ArchiveRetentionApplied)) {
        this.logger.info({ eventId: event.id, before: event.payload.before }, 'applying the retention period');
        await writer.applyRetention(tx, new Date(event.payload.before));
      } else if (isEvent(event, ArchivePreferencesChanged)) {
        const { user, default: mode, always, never } = event.payload;
        await writer.recordPreferences(tx, event.id, user, new Date(event.occurredAt), { mode, always, never });
      } else {
        this.logger.debug({ eventId: event.id, type: event.type, topic, partition, offset: offset.toString() }, 'not an archive concern: skipped');
      }
    }
    await flush();
  }

  async onModuleDestroy(): Promise<void> {
    await this.running?.stop();
    await this.stopAdmin?.();
  }
}

/** Whether applying the event changes what `owner` reads from the archive. */
function concerns(kept: ArchiveEvent, owner: string): boolean {
  if ('message' in kept) return kept.message.sender === owner || kept.message.recipient === owner;
  const event = kept.other;
  if (isEvent(event, AccountDeleted)) return event.payload.account === owner;
  if (isEvent(event, ArchivePreferencesChanged)) return event.payload.user === owner;
  return isEvent(event, ArchiveRetentionApplied);
}
