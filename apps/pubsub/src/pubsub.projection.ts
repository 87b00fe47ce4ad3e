import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  isEvent, PubsubAffiliationChanged, PubsubItemPublished, PubsubItemRetracted, PubsubNodeConfigured, PubsubNodeCreated,
  PubsubNodeDeleted, PubsubNodePurged, PubsubSubscriptionChanged, topics,
} from '@hearth/contracts';
import { AppliedEvents, createKafka, prismaProjectionDatabase, runProjection, type ConsumedEvent, type RunningProjection } from '@hearth/kafka';
import { Readiness, SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { PUBSUB_CONFIG, settingsOf, type PubsubConfig } from './config';
import { configurationFromForm, DEFAULT_SUBSCRIPTION_OPTIONS, subscriptionOptionsForm } from './domain';
import type { Prisma } from './generated/prisma/client';
import { PubsubDatabase } from './pubsub-database';

const PROJECTION_NAME = 'pubsub';

interface PublishedRow { service: string; node: string; itemId: string; publisher: string; payload: string; publishedAt: string; seq: string }
const DEFAULT_OPTIONS_JSON = JSON.stringify(subscriptionOptionsForm(DEFAULT_SUBSCRIPTION_OPTIONS));

/**
 * Consumes hearth.pubsub into the service's tables: nodes, affiliations, subscriptions, items.
 * The same rules as the domain's `evolve`, as SQL. Deterministic (times come from the events,
 * order from log offsets), so a rebuild from offset 0 gives identical rows.
 */
@Injectable()
export class PubsubProjection implements OnApplicationBootstrap, OnModuleDestroy {
  private running?: RunningProjection;
  private readonly settings;

  constructor(
    private readonly database: PubsubDatabase,
    private readonly readiness: Readiness,
    private readonly applied: AppliedEvents,
    @Inject(PUBSUB_CONFIG) private readonly config: PubsubConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {
    this.settings = settingsOf(config);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('database', () => this.database.isReachable());
    this.readiness.register('consumer', () => this.running?.isJoined() ?? false);
    const kafka = createKafka({ brokers: this.config.HEARTH_KAFKA_BROKERS, clientId: 'pubsub', logger: this.logger });
    this.running = await runProjection<Prisma.TransactionClient>({
      kafka,
      name: PROJECTION_NAME,
      topics: [topics.pubsub],
      database: prismaProjectionDatabase(this.database),
      logger: this.logger,
      apply: (events, tx) => this.apply(events, tx),
      // Commands wait for their own events here (read-your-writes), never on replay.
      afterCommit: (events) => this.applied.applied(events.map((e) => e.event.id)),
    });
  }

  private async apply(events: ConsumedEvent[], tx: Prisma.TransactionClient): Promise<void> {
    // Publishes (the bulk of the log) are written in bulk: consecutive ones in one statement, then
    // one trim for their nodes. Any other event first flushes them, so the order is the log's.
    let published: PublishedRow[] = [];
    const flush = async () => {
      if (published.length === 0) return;
      await this.storeItems(tx, published);
      published = [];
    };
    for (const { event, offset } of events) {
      const seq = offset.toString();
      if (isEvent(event, PubsubItemPublished)) {
        const { service, node, itemId, publisher, payload, persisted } = event.payload;
        if (persisted) published.push({ service, node, itemId, publisher, payload, publishedAt: event.occurredAt, seq });
        continue;
      }
      await flush();
      if (isEvent(event, PubsubNodeCreated)) {
        const { service, node, owner, configuration } = event.payload;
        await tx.$executeRawUnsafe(
          `INSERT INTO pubsub_nodes (service, node, creator, configuration, max_items, created_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6::timestamptz)
           ON CONFLICT (service, node) DO NOTHING`,
          service, node, owner, JSON.stringify(configuration), this.maxItemsOf(configuration), event.occurredAt);
        await this.setAffiliation(tx, service, node, owner, 'owner');
      } else if (isEvent(event, PubsubNodeConfigured)) {
        const { service, node, configuration } = event.payload;
        await tx.$executeRawUnsafe('UPDATE pubsub_nodes SET configuration = $3::jsonb, max_items = $4 WHERE service = $1 AND node = $2',
          service, node, JSON.stringify(configuration), this.maxItemsOf(configuration));
        await this.trimItems(tx, [{ service, node }]);
      } else if (isEvent(event, PubsubNodeDeleted)) {
        const { service, node } = event.payload;
        for (const table of ['pubsub_items', 'pubsub_subscriptions', 'pubsub_affiliations', 'pubsub_nodes']) {
          await tx.$executeRawUnsafe(`DELETE FROM ${table} WHERE service = $1 AND node = $2`, service, node);
        }
      } else if (isEvent(event, PubsubNodePurged)) {
        await tx.$executeRawUnsafe('DELETE FROM pubsub_items WHERE service = $1 AND node = $2', event.payload.service, event.payload.node);
      } else if (isEvent(event, PubsubAffiliationChanged)) {
        const { service, node, jid, affiliation } = event.payload;
        await this.setAffiliation(tx, service, node, jid, affiliation);
      } else if (isEvent(event, PubsubSubscriptionChanged)) {
        const { service, node, jid, subid, subscription, options } = event.payload;
        if (subscription === 'none') {
          await tx.$executeRawUnsafe('DELETE FROM pubsub_subscriptions WHERE service = $1 AND node = $2 AND subid = $3', service, node, subid);
        } else {
          // Options absent from the event keep the subscription's current ones.
          await tx.$executeRawUnsafe(
            `INSERT INTO pubsub_subscriptions (service, node, subid, jid, state, options, seq) VALUES ($1, $2, $3, $4, $5, COALESCE($6::jsonb, $7::jsonb), $8::bigint)
             ON CONFLICT (service, node, subid) DO UPDATE SET state = EXCLUDED.state, options = COALESCE($6::jsonb, pubsub_subscriptions.options)`,
            service, node, subid, jid, subscription, options ? JSON.stringify(options) : null, DEFAULT_OPTIONS_JSON, seq);
        }
      } else if (isEvent(event, PubsubItemRetracted)) {
        const { service, node, itemId } = event.payload;
        await tx.$executeRawUnsafe('DELETE FROM pubsub_items WHERE service = $1 AND node = $2 AND item_id = $3', service, node, itemId);
      }
    }
    await flush();
  }

  /**
   * Stores published items; a re-published id replaces the item and becomes the newest (XEP-0060
   * §7.1.2) — within one statement only the last publish of an id may appear, so earlier ones go.
   */
  private async storeItems(tx: Prisma.TransactionClient, rows: PublishedRow[]): Promise<void> {
    const last = new Map<string, PublishedRow>();
    for (const row of rows) {
      const key = JSON.stringify([row.service, row.node, row.itemId]);
      last.delete(key);
      last.set(key, row);
    }
    const list = [...last.values()];
    const column = <K extends keyof PublishedRow>(k: K) => list.map((r) => r[k]);
    await tx.$executeRawUnsafe(
      `INSERT INTO pubsub_items (service, node, item_id, publisher, payload, published_at, seq)
       SELECT service, node, item_id, publisher, payload, published_at::timestamptz, seq::bigint
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS t(service, node, item_id, publisher, payload, published_at, seq)
       ON CONFLICT (service, node, item_id) DO UPDATE SET publisher = EXCLUDED.publisher, payload = EXCLUDED.payload,
         published_at = EXCLUDED.published_at, seq = EXCLUDED.seq`,
      column('service'), column('node'), column('itemId'), column('publisher'), column('payload'), column('publishedAt'), column('seq'));
    const nodes = new Map(list.map((r) => [JSON.stringify([r.service, r.node]), { service: r.service, node: r.node }]));
    await this.trimItems(tx, [...nodes.values()]);
  }

  private maxItemsOf(configuration: Record<string, string | string[]>): number {
    return configurationFromForm(configuration, this.settings.defaults).maxItems;
  }

  private async setAffiliation(tx: Prisma.TransactionClient, service: string, node: string, jid: string, affiliation: string): Promise<void> {
    if (affiliation === 'none') {
      await tx.$executeRawUnsafe('DELETE FROM pubsub_affiliations WHERE service = $1 AND node = $2 AND jid = $3', service, node, jid);
      return;
    }
    await tx.$executeRawUnsafe(
      `INSERT INTO pubsub_affiliations (service, node, jid, affiliation) VALUES ($1, $2, $3, $4)
       ON CONFLICT (service, node, jid) DO UPDATE SET affiliation = EXCLUDED.affiliation`, service, node, jid, affiliation);
  }

  /** Keeps the newest pubsub#max_items items of each node (the oldest go first, §6.5.7 / §16.4.4). */
  private async trimItems(tx: Prisma.TransactionClient, nodes: { service: string; node: string }[]): Promise<void> {
    await tx.$executeRawUnsafe(
      `DELETE FROM pubsub_items i USING (
         SELECT it.service, it.node, it.item_id, n.max_items,
                row_number() OVER (PARTITION BY it.service, it.node ORDER BY it.seq DESC) AS newest
         FROM pubsub_items it JOIN pubsub_nodes n ON n.service = it.service AND n.node = it.node
         WHERE (it.service, it.node) IN (SELECT * FROM unnest($1::text[], $2::text[]))) old
       WHERE old.newest > old.max_items AND i.service = old.service AND i.node = old.node AND i.item_id = old.item_id`,
      nodes.map((n) => n.service), nodes.map((n) => n.node));
  }

  async onModuleDestroy(): Promise<void> {
    await this.running?.stop();
  }
}
