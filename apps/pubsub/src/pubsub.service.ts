import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { PUBSUB_CONFIG, settingsOf, type PubsubConfig } from './config';
import {
  decideConfigureNode, decideCreateNode, decideDeleteNode, decidePublish, decidePurgeNode,
  decideRetract, DEFAULT_SUBSCRIPTION_OPTIONS, decideSetAffiliations, decideSetSubscriptionOptions, decideSetSubscriptions, decideSubscribe, decideUnsubscribe,
  isJid, lastItemsOnAvailability, refuse, requireItemAccess, requireOwner, subscriptionOptionsOf,
  type CreateNode, type Decision, type IdSource, type NodeState, type Publish, type PubsubSettings, type Subscribe,
  type SubscriptionOptionsCommand,
} from './domain';
import { PubsubEventLog } from './event-log';
import { PubsubRepository, type ItemsNeeded } from './pubsub.repository';
import { AppliedEvents } from '@hearth/kafka';

interface Address { actor: string; service: string; node: string }

/** Largest page of ListNodes (disco#items); clients page on with `after`. */
const NODES_PAGE_SIZE = 500;

const uuids: IdSource = { next: () => randomUUID() };

/**
 * The pubsub application service: each command is decided against the node's current state
 * (one command per node at a time in this process), its events appended to the log, and the
 * answer given once the projection has applied them. Queries read the projection.
 */
@Injectable()
export class PubsubService {
  readonly settings: PubsubSettings;
  private readonly services: ReadonlySet<string>;
  private readonly nodeLocks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly repository: PubsubRepository,
    private readonly log: PubsubEventLog,
    private readonly applied: AppliedEvents,
    @Inject(PUBSUB_CONFIG) private readonly config: PubsubConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {
    this.settings = settingsOf(config);
    this.services = new Set(config.HEARTH_DOMAINS.map((domain) => `pubsub.${domain}`));
  }

  createNode = (cmd: CreateNode) => this.command(cmd, 'none', (s) => decideCreateNode(cmd, s, this.settings, uuids));
  configureNode = (cmd: CreateNode) => this.command(cmd, 'none', (s) => decideConfigureNode(cmd, s, this.settings));
  deleteNode = (cmd: Address & { redirect: string }) => this.command(cmd, 'none', (s) => decideDeleteNode(cmd, s));
  purgeNode = (cmd: Address) => this.command(cmd, 'none', (s) => decidePurgeNode(cmd, s));
  subscribe = (cmd: Subscribe) => this.command(cmd, 'newest', (s) => decideSubscribe(cmd, s, this.settings, uuids));
  unsubscribe = (cmd: Address & { jid: string; subid: string }) => this.command(cmd, 'none', (s) => decideUnsubscribe(cmd, s));
  setSubscriptionOptions = (cmd: SubscriptionOptionsCommand) => this.command(cmd, 'none', (s) => decideSetSubscriptionOptions(cmd, s));
  setAffiliations = (cmd: Address & { affiliations: { jid: string; affiliation: string }[] }) =>
    this.command(cmd, 'none', (s) => decideSetAffiliations(cmd, s));
  setSubscriptions = (cmd: Address & { subscriptions: { jid: string; subid: string; subscription: string }[] }) =>
    this.command(cmd, 'none', (s) => decideSetSubscriptions(cmd, s, this.settings, uuids));
  publish = (cmd: Publish) => this.command(cmd, 'none', (s) => decidePublish(cmd, s, this.settings, uuids));
  retract = (cmd: Address & { itemId: string; notify: boolean }) => this.command(cmd, { id: cmd.itemId }, (s) => decideRetract(cmd, s));

  async nodeConfiguration(cmd: Address) {
    return requireOwner(await this.node(cmd, 'none'), cmd, 'read its configuration').config;
  }

  defaultConfiguration(cmd: { actor: string; service: string }) {
    this.requireService(cmd);
    return this.settings.defaults;
  }

  /** §10: what disco#info advertises beyond the fixed feature list. */
  serviceFeatures(cmd: { actor: string; service: string }) {
    this.requireService(cmd);
    return { multipleSubscriptions: this.settings.multipleSubscriptions };
  }

  /** §6.4 default subscription options: the same for every node (no per-node defaults); with a node, it must exist. */
  async defaultSubscriptionOptions(cmd: Address) {
    await this.requireNodeIfNamed(cmd);
    return DEFAULT_SUBSCRIPTION_OPTIONS;
  }

  async subscriptionOptions(cmd: SubscriptionOptionsCommand) {
    return subscriptionOptionsOf(cmd, await this.node(cmd, 'none'));
  }

  async items(cmd: Address & { maxItems: number; itemIds: string[]; presenceSubscriptions: string[] }) {
    const node = requireItemAccess(cmd, await this.node(cmd, 'none'));
    return this.repository.items(node.service, node.node, cmd.maxItems, cmd.itemIds);
  }

  /** §5.6 / §8.8.1. */
  async subscriptions(cmd: Address & { asOwner: boolean }) {
    if (!cmd.asOwner) {
      await this.requireNodeIfNamed(cmd);
      return this.repository.subscriptionsOf(cmd.service, cmd.actor, cmd.node);
    }
    const node = requireOwner(await this.node(cmd, 'none'), cmd, 'list its subscriptions');
    return node.subscriptions.map((s) => ({ node: node.node, ...s }));
  }

  /** §5.7 / §8.9.1. */
  async affiliations(cmd: Address & { asOwner: boolean }) {
    if (!cmd.asOwner) {
      await this.requireNodeIfNamed(cmd);
      return this.repository.affiliationsOf(cmd.service, cmd.actor, cmd.node);
    }
    const node = requireOwner(await this.node(cmd, 'none'), cmd, 'list its affiliations');
    return [...node.affiliations].map(([jid, affiliation]) => ({ node: node.node, jid, affiliation }));
  }

  /** disco#items / disco#info: one node, or a page of the service's nodes by name. */
  async nodes(cmd: Address & { after: string; max: number }): Promise<{ nodes: NodeState[]; more: boolean; count: number }> {
    this.requireService(cmd);
    if (cmd.node) {
      const node = await this.node(cmd, 'none');
      if (!node) throw refuse.nodeNotFound(cmd.node);
      return { nodes: [node], more: false, count: 0 };
    }
    const max = Math.min(cmd.max || NODES_PAGE_SIZE, NODES_PAGE_SIZE);
    const [names, count] = await Promise.all([this.repository.nodeNames(cmd.service, cmd.after, max + 1), this.repository.nodeCount(cmd.service)]);
    return { nodes: await this.repository.loadNodes(cmd.service, names.slice(0, max), 'none'), more: names.length > max, count };
  }

  async subscriberBecameAvailable(cmd: { actor: string; service: string }) {
    this.requireService(cmd);
    return lastItemsOnAvailability(cmd.actor, await this.repository.presenceNodesOf(cmd.service, cmd.actor));
  }

  /** Every request names one of this deployment's services and carries the requester's JID (set by the gateway). */
  private requireService({ actor, service }: { actor: string; service: string }): void {
    if (!this.services.has(service)) throw refuse.unknownService(service);
    if (!isJid(actor) || !actor.includes('@')) throw refuse.badRequest('the request carries no valid actor JID');
  }

  private async requireNodeIfNamed(cmd: Address): Promise<void> {
    this.requireService(cmd);
    if (cmd.node && !(await this.node(cmd, 'none'))) throw refuse.nodeNotFound(cmd.node);
  }

  private node(cmd: Address, items: ItemsNeeded): Promise<NodeState | undefined> {
    this.requireService(cmd);
    if (!cmd.node) throw refuse.nodeidRequired();
    return this.repository.loadNode(cmd.service, cmd.node, items);
  }

  /**
   * Decide → append → wait until applied, one command per node at a time (commands on one node
   * are decided against the state every earlier command produced).
   */
  private command<R>(cmd: Address, items: ItemsNeeded, decide: (state: NodeState | undefined) => Decision<R>): Promise<R> {
    this.requireService(cmd);
    const key = `${cmd.service} ${cmd.node}`;
    const previous = this.nodeLocks.get(key) ?? Promise.resolve();
    const run = previous.then(async () => {
      // An instant node (empty name) is new by definition: there is nothing to load.
      const state = cmd.node ? await this.repository.loadNode(cmd.service, cmd.node, items) : undefined;
      const decision = decide(state);
      if (decision.events.length === 0) return decision.result;
      const envelopes = this.log.envelopes(decision.events, randomUUID());
      const ids = envelopes.map((e) => e.id);
      const applied = this.applied.waitFor(ids, this.config.HEARTH_PUBSUB_APPLY_TIMEOUT_MS);
      await this.log.append(envelopes);
      if (!(await applied)) {
        // The events are in the log (the source of truth) and will be applied; answering is right,
        // but the next command on this node may not see them yet.
        this.logger.warn({ service: cmd.service, node: cmd.node, events: ids }, 'answering before the projection applied the command');
      }
      return decision.result;
    });
    const settled = run.catch(() => undefined);
    this.nodeLocks.set(key, settled);
    void settled.then(() => {
      if (this.nodeLocks.get(key) === settled) this.nodeLocks.delete(key);
    });
    return run;
  }
}
