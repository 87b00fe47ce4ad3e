import { Inject, Injectable } from '@nestjs/common';
import { PUBSUB_CONFIG, settingsOf, type PubsubConfig } from './config';
import {
  applySubscriptionOptionsForm, bareOf, configurationFromForm, DEFAULT_SUBSCRIPTION_OPTIONS, type Affiliation, type FormValues,
  type NodeState, type PubsubSettings, type StoredItem, type SubscriptionRecord,
} from './domain';
import { PubsubDatabase } from './pubsub-database';

/** Which stored items a command needs to see in its NodeState. */
export type ItemsNeeded = 'none' | 'newest' | { id: string };

interface NodeRow { node: string; configuration: FormValues }
interface SubscriptionRow { node?: string; jid: string; subid: string; state: string; options: FormValues }
interface ItemRow { node?: string; item_id: string; payload: string; publisher: string; published_at: Date }

/** Reads the projection: node states for commands, and the queries' answers. */
@Injectable()
export class PubsubRepository {
  private readonly settings: PubsubSettings;

  constructor(private readonly database: PubsubDatabase, @Inject(PUBSUB_CONFIG) config: PubsubConfig) {
    this.settings = settingsOf(config);
  }

  async loadNode(service: string, node: string, items: ItemsNeeded): Promise<NodeState | undefined> {
    const [state] = await this.loadNodes(service, [node], items);
    return state;
  }

  /** The states of several nodes of one service (queries over many nodes load them in four statements). */
  async loadNodes(service: string, nodes: readonly string[], items: ItemsNeeded): Promise<NodeState[]> {
    if (nodes.length === 0) return [];
    const db = this.database;
    // One round trip for the node, its affiliations and subscriptions (a publish on a node with
    // 1,000 subscribers reads them all); items only when the command needs some.
    const [nodeRows, itemRows] = await Promise.all([
      db.$queryRawUnsafe<(NodeRow & { affiliations: { jid: string; affiliation: Affiliation }[]; subscriptions: SubscriptionRow[] })[]>(
        `SELECT n.node, n.configuration,
           COALESCE((SELECT json_agg(json_build_object('jid', a.jid, 'affiliation', a.affiliation) ORDER BY a.jid)
                     FROM pubsub_affiliations a WHERE a.service = n.service AND a.node = n.node), '[]') AS affiliations,
           COALESCE((SELECT json_agg(json_build_object('jid', s.jid, 'subid', s.subid, 'state', s.state, 'options', s.options) ORDER BY s.seq, s.subid)
                     FROM pubsub_subscriptions s WHERE s.service = n.service AND s.node = n.node), '[]') AS subscriptions
         FROM pubsub_nodes n WHERE n.service = $1 AND n.node = ANY($2::text[])`, service, nodes),
      items === 'none' ? Promise.resolve([]) : items === 'newest'
        ? db.$queryRawUnsafe<ItemRow[]>(
          `SELECT DISTINCT ON (node) node, item_id, payload, publisher, published_at FROM pubsub_items
           WHERE service = $1 AND node = ANY($2::text[]) ORDER BY node, seq DESC`, service, nodes)
        : db.$queryRawUnsafe<ItemRow[]>(
          'SELECT node, item_id, payload, publisher, published_at FROM pubsub_items WHERE service = $1 AND node = ANY($2::text[]) AND item_id = $3',
          service, nodes, items.id),
    ]);
    return nodeRows.map((row) => ({
      service,
      node: row.node,
      config: configurationFromForm(row.configuration, this.settings.defaults),
      affiliations: new Map(row.affiliations.map((a) => [a.jid, a.affiliation])),
      subscriptions: row.subscriptions.map(toSubscription),
      items: itemRows.filter((i) => i.node === row.node).map(toItem),
    }));
  }

  /** §6.5: all items oldest first, the newest `max`, or the given ids. */
  async items(service: string, node: string, max: number, ids: readonly string[]): Promise<StoredItem[]> {
    const rows = ids.length > 0
      ? await this.database.$queryRawUnsafe<ItemRow[]>(
        'SELECT item_id, payload, publisher, published_at FROM pubsub_items WHERE service = $1 AND node = $2 AND item_id = ANY($3::text[]) ORDER BY seq',
        service, node, ids)
      : max > 0
        ? (await this.database.$queryRawUnsafe<ItemRow[]>(
          'SELECT item_id, payload, publisher, published_at FROM pubsub_items WHERE service = $1 AND node = $2 ORDER BY seq DESC LIMIT $3',
          service, node, max)).reverse()
        : await this.database.$queryRawUnsafe<ItemRow[]>(
          'SELECT item_id, payload, publisher, published_at FROM pubsub_items WHERE service = $1 AND node = $2 ORDER BY seq', service, node);
    return rows.map(toItem);
  }

  /** §5.6: the subscriptions of the actor's bare JID and its full JIDs, on one node or all. */
  async subscriptionsOf(service: string, actor: string, node: string): Promise<(SubscriptionRecord & { node: string })[]> {
    const rows = await this.database.$queryRawUnsafe<SubscriptionRow[]>(
      `SELECT node, jid, subid, state, options FROM pubsub_subscriptions
       WHERE service = $1 AND (jid = $2 OR jid LIKE $3) AND ($4 = '' OR node = $4) ORDER BY node, seq, subid`,
      service, bareOf(actor), `${escapeLike(bareOf(actor))}/%`, node);
    return rows.map((row) => ({ node: row.node!, ...toSubscription(row) }));
  }

  /** §5.7: the actor's affiliations, on one node or all. */
  async affiliationsOf(service: string, actor: string, node: string): Promise<{ node: string; jid: string; affiliation: Affiliation }[]> {
    return this.database.$queryRawUnsafe(
      `SELECT node, jid, affiliation FROM pubsub_affiliations WHERE service = $1 AND jid = $2 AND ($3 = '' OR node = $3) ORDER BY node`,
      service, bareOf(actor), node);
  }

  /** Node names of a service in name order, after `after`, at most `max` (one more to tell whether more follow). */
  async nodeNames(service: string, after: string, max: number): Promise<string[]> {
    const rows = await this.database.$queryRawUnsafe<{ node: string }[]>(
      'SELECT node FROM pubsub_nodes WHERE service = $1 AND node > $2 ORDER BY node LIMIT $3', service, after, max);
    return rows.map((r) => r.node);
  }

  /** How many nodes a service has (XEP-0059 §2.6 count of disco#items). */
  async nodeCount(service: string): Promise<number> {
    const [row] = await this.database.$queryRawUnsafe<{ count: number }[]>('SELECT count(*)::int AS count FROM pubsub_nodes WHERE service = $1', service);
    return row?.count ?? 0;
  }

  /** Nodes configured with on_sub_and_presence to which the actor's bare or full JID subscribes. */
  async presenceNodesOf(service: string, actor: string): Promise<NodeState[]> {
    const rows = await this.database.$queryRawUnsafe<{ node: string }[]>(
      `SELECT DISTINCT s.node FROM pubsub_subscriptions s JOIN pubsub_nodes n ON n.service = s.service AND n.node = s.node
       WHERE s.service = $1 AND s.jid IN ($2, $3) AND s.state = 'subscribed'
         AND n.configuration->>'pubsub#send_last_published_item' = 'on_sub_and_presence'`,
      service, actor, bareOf(actor));
    return this.loadNodes(service, rows.map((r) => r.node), 'newest');
  }
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function toSubscription(row: SubscriptionRow): SubscriptionRecord {
  return { jid: row.jid, subid: row.subid, state: row.state as SubscriptionRecord['state'],
    options: applySubscriptionOptionsForm(DEFAULT_SUBSCRIPTION_OPTIONS, row.options) };
}

function toItem(row: ItemRow): StoredItem {
  return { id: row.item_id, payload: row.payload, publisher: row.publisher, publishedAt: row.published_at.toISOString() };
}
