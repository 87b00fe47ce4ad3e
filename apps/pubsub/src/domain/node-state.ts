import type {
  PayloadOf, PubsubAffiliationChanged, PubsubItemPublished, PubsubItemRetracted, PubsubNodeConfigured, PubsubNodeCreated,
  PubsubNodeDeleted, PubsubNodePurged, PubsubSubscriptionChanged,
} from '@hearth/contracts';
import {
  applySubscriptionOptionsForm, configurationFromForm, DEFAULT_SUBSCRIPTION_OPTIONS, type NodeConfig, type PubsubSettings,
  type SubscriptionOptions,
} from './node-config';

export type Affiliation = PayloadOf<typeof PubsubAffiliationChanged>['affiliation'];
export type SubscriptionState = PayloadOf<typeof PubsubSubscriptionChanged>['subscription'];

export interface SubscriptionRecord {
  jid: string;
  subid: string;
  state: Exclude<SubscriptionState, 'none'>;
  options: SubscriptionOptions;
}

export interface StoredItem {
  id: string;
  payload: string;
  publisher: string;
  publishedAt: string;
}

/**
 * What a command on one node is decided against. `items` holds the node's stored items the
 * command can refer to, oldest first: the repository loads only those a command needs (the
 * newest for subscribe, the targeted one for retract); `evolve` keeps all of them.
 */
export interface NodeState {
  service: string;
  node: string;
  config: NodeConfig;
  /** bare JID → affiliation (owners included; "none" is never stored). */
  affiliations: ReadonlyMap<string, Affiliation>;
  subscriptions: readonly SubscriptionRecord[];
  items: readonly StoredItem[];
}

/** The events of the pubsub context, as the domain produces them. */
export type PubsubEvent =
  | { type: 'PubsubNodeCreated'; payload: PayloadOf<typeof PubsubNodeCreated> }
  | { type: 'PubsubNodeConfigured'; payload: PayloadOf<typeof PubsubNodeConfigured> }
  | { type: 'PubsubNodeDeleted'; payload: PayloadOf<typeof PubsubNodeDeleted> }
  | { type: 'PubsubNodePurged'; payload: PayloadOf<typeof PubsubNodePurged> }
  | { type: 'PubsubAffiliationChanged'; payload: PayloadOf<typeof PubsubAffiliationChanged> }
  | { type: 'PubsubSubscriptionChanged'; payload: PayloadOf<typeof PubsubSubscriptionChanged> }
  | { type: 'PubsubItemPublished'; payload: PayloadOf<typeof PubsubItemPublished> }
  | { type: 'PubsubItemRetracted'; payload: PayloadOf<typeof PubsubItemRetracted> };

/**
 * The state after an event (undefined: the node does not exist). The reference semantics of the
 * projection's SQL (pubsub.projection.ts applies the same rules to tables).
 */
export function evolve(
  state: NodeState | undefined,
  event: PubsubEvent,
  settings: Pick<PubsubSettings, 'defaults'>,
  occurredAt = '1970-01-01T00:00:00.000Z',
): NodeState | undefined {
  switch (event.type) {
    case 'PubsubNodeCreated': {
      const { service, node, owner, configuration } = event.payload;
      return { service, node, config: configurationFromForm(configuration, settings.defaults),
        affiliations: new Map([[owner, 'owner']]), subscriptions: [], items: [] };
    }
    case 'PubsubNodeDeleted':
      return undefined;
  }
  if (!state) return state;
  switch (event.type) {
    case 'PubsubNodeConfigured': {
      const config = configurationFromForm(event.payload.configuration, settings.defaults);
      return { ...state, config, items: state.items.slice(-config.maxItems) };
    }
    case 'PubsubNodePurged':
      return { ...state, items: [] };
    case 'PubsubAffiliationChanged': {
      const affiliations = new Map(state.affiliations);
      if (event.payload.affiliation === 'none') affiliations.delete(event.payload.jid);
      else affiliations.set(event.payload.jid, event.payload.affiliation);
      return { ...state, affiliations };
    }
    case 'PubsubSubscriptionChanged': {
      const { jid, subid, subscription, options } = event.payload;
      const others = state.subscriptions.filter((s) => s.subid !== subid);
      if (subscription === 'none') return { ...state, subscriptions: others };
      const existing = state.subscriptions.find((s) => s.subid === subid);
      const record: SubscriptionRecord = {
        jid, subid, state: subscription,
        options: options ? applySubscriptionOptionsForm(DEFAULT_SUBSCRIPTION_OPTIONS, options) : existing?.options ?? DEFAULT_SUBSCRIPTION_OPTIONS,
      };
      // Replacing in place keeps the order subscriptions were made in.
      return { ...state, subscriptions: existing ? state.subscriptions.map((s) => (s.subid === subid ? record : s)) : [...others, record] };
    }
    case 'PubsubItemPublished': {
      const { itemId, payload, publisher, persisted } = event.payload;
      if (!persisted) return state;
      // A re-published id replaces the item and makes it the newest (§7.1.2); the oldest beyond max_items go.
      const items = [...state.items.filter((i) => i.id !== itemId), { id: itemId, payload, publisher, publishedAt: occurredAt }];
      return { ...state, items: items.slice(-state.config.maxItems) };
    }
    case 'PubsubItemRetracted':
      return { ...state, items: state.items.filter((i) => i.id !== event.payload.itemId) };
  }
}
