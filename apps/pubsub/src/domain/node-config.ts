import { refuse, type PubsubError } from './pubsub-error';

/**
 * Node configuration (XEP-0060 §8.2, form type http://jabber.org/protocol/pubsub#node_config,
 * fields of §16.4.4) and subscription options (§6.3, pubsub#subscribe_options): typed values,
 * parsing and validation of submitted data forms, and rendering back to forms. Pure.
 */

/** A submitted or rendered XEP-0004 data form: field var → value(s). */
export type FormValues = Record<string, string | string[]>;

export const SEND_LAST_PUBLISHED_ITEM = ['never', 'on_sub', 'on_sub_and_presence'] as const;
export const ACCESS_MODELS = ['open', 'whitelist', 'presence', 'authorize'] as const;
export const PUBLISH_MODELS = ['publishers', 'subscribers', 'open'] as const;
export type SendLastPublishedItem = (typeof SEND_LAST_PUBLISHED_ITEM)[number];
export type AccessModel = (typeof ACCESS_MODELS)[number];
export type PublishModel = (typeof PUBLISH_MODELS)[number];

export interface NodeConfig {
  title: string;
  sendLastPublishedItem: SendLastPublishedItem;
  maxItems: number;
  persistItems: boolean;
  deliverPayloads: boolean;
  notifyRetract: boolean;
  notifyDelete: boolean;
  accessModel: AccessModel;
  publishModel: PublishModel;
}

/** Server-wide settings: the defaults of new nodes and the rules that are not per node. */
export interface PubsubSettings {
  defaults: NodeConfig;
  /** Whether one JID may hold several subscriptions to one node (XEP-0060 §6.1.6). */
  multipleSubscriptions: boolean;
  /** Whether a node's creator is subscribed to it at creation. */
  autoSubscribeCreator: boolean;
  /** Upper bound of pubsub#max_items (and its value for "max"). */
  maxItemsLimit: number;
  /** Upper bound of an item payload, in bytes of UTF-8 XML. */
  maxPayloadBytes: number;
}

export const NODE_CONFIG_FORM_TYPE = 'http://jabber.org/protocol/pubsub#node_config';
export const SUBSCRIBE_OPTIONS_FORM_TYPE = 'http://jabber.org/protocol/pubsub#subscribe_options';
export const PUBLISH_OPTIONS_FORM_TYPE = 'http://jabber.org/protocol/pubsub#publish-options';

interface FieldSpec<T> {
  readonly field: string;
  /** A value or the reason it is refused. */
  parse(value: string, settings: Pick<PubsubSettings, 'maxItemsLimit'>): T | { invalid: string };
  format(value: T): string;
  /** list-single options, for the rendered form. */
  readonly options?: readonly string[];
}

const isInvalid = (v: unknown): v is { invalid: string } => typeof v === 'object' && v !== null && 'invalid' in v;

// XEP-0004 §3.3 boolean: "0"/"false" and "1"/"true".
const booleanField = (field: string): FieldSpec<boolean> => ({
  field,
  parse: (v) => (v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : { invalid: `${field} must be a boolean (0, 1, false, true)` }),
  format: (v) => (v ? '1' : '0'),
});

const listSingle = <T extends string>(field: string, options: readonly T[]): FieldSpec<T> => ({
  field,
  options,
  parse: (v) => ((options as readonly string[]).includes(v) ? (v as T) : { invalid: `${field} must be one of ${options.join(', ')}` }),
  format: (v) => v,
});

const TITLE_MAX_LENGTH = 1024;

const NODE_FIELDS: { [K in keyof NodeConfig]: FieldSpec<NodeConfig[K]> } = {
  title: {
    field: 'pubsub#title',
    parse: (v) => (v.length <= TITLE_MAX_LENGTH ? v : { invalid: `pubsub#title is longer than ${TITLE_MAX_LENGTH} characters` }),
    format: (v) => v,
  },
  sendLastPublishedItem: listSingle('pubsub#send_last_published_item', SEND_LAST_PUBLISHED_ITEM),
  maxItems: {
    field: 'pubsub#max_items',
    parse: (v, { maxItemsLimit }) => {
      if (v === 'max') return maxItemsLimit; // XEP-0060 §16.4.4: "max" = the service's maximum
      const n = /^\d{1,9}$/.test(v) ? Number(v) : NaN;
      return n >= 1 && n <= maxItemsLimit ? n : { invalid: `pubsub#max_items must be an integer from 1 to ${maxItemsLimit}, or max` };
    },
    format: (v) => String(v),
  },
  persistItems: booleanField('pubsub#persist_items'),
  deliverPayloads: booleanField('pubsub#deliver_payloads'),
  notifyRetract: booleanField('pubsub#notify_retract'),
  notifyDelete: booleanField('pubsub#notify_delete'),
  accessModel: listSingle('pubsub#access_model', ACCESS_MODELS),
  publishModel: listSingle('pubsub#publish_model', PUBLISH_MODELS),
};

const FIELD_BY_VAR = new Map(Object.entries(NODE_FIELDS).map(([key, spec]) => [spec.field, key as keyof NodeConfig]));

function singleValue(field: string, value: string | string[], fail: (why: string) => PubsubError): string {
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0]!;
  throw fail(`${field} takes exactly one value`);
}

/**
 * Applies a submitted form to a configuration: fields not in the form keep their value in
 * `base`. An unknown field or an invalid value refuses the whole form (not-acceptable, with the
 * reason), so a typo never silently leaves a node with a setting its owner did not choose.
 */
export function applyConfigurationForm(base: NodeConfig, form: FormValues, settings: Pick<PubsubSettings, 'maxItemsLimit'>): NodeConfig {
  const next: NodeConfig = { ...base };
  for (const [field, raw] of Object.entries(form)) {
    if (field === 'FORM_TYPE') continue;
    const key = FIELD_BY_VAR.get(field);
    if (!key) throw refuse.invalidConfiguration(`unsupported configuration field ${field}`);
    const parsed = NODE_FIELDS[key].parse(singleValue(field, raw, refuse.invalidConfiguration), settings);
    if (isInvalid(parsed)) throw refuse.invalidConfiguration(parsed.invalid);
    (next as Record<keyof NodeConfig, unknown>)[key] = parsed;
  }
  return next;
}

/** The configuration as a complete form (event payloads, GetNodeConfiguration). */
export function configurationForm(config: NodeConfig): Record<string, string> {
  const form: Record<string, string> = {};
  for (const key of Object.keys(NODE_FIELDS) as (keyof NodeConfig)[]) {
    const spec = NODE_FIELDS[key] as FieldSpec<NodeConfig[typeof key]>;
    form[spec.field] = spec.format(config[key]);
  }
  return form;
}

/** The list-single options of the configuration form, for rendering. */
export function configurationOptions(): Record<string, readonly string[]> {
  return Object.fromEntries(Object.values(NODE_FIELDS).flatMap((spec: FieldSpec<unknown>) => (spec.options ? [[spec.field, spec.options]] : [])));
}

/**
 * Reads a configuration from an event's (or the projection's) complete form; fields missing from
 * older events keep the defaults. It was validated when decided, so today's limits do not apply:
 * lowering HEARTH_PUBSUB_MAX_ITEMS_LIMIT must not make the log unreadable.
 */
export function configurationFromForm(form: FormValues, defaults: NodeConfig): NodeConfig {
  return applyConfigurationForm(defaults, form, { maxItemsLimit: Number.MAX_SAFE_INTEGER });
}

/**
 * XEP-0060 §7.1.5 publish-options: every field is a precondition on the node's configuration;
 * one that is unknown or differs refuses the publish with conflict / precondition-not-met.
 */
export function checkPublishPreconditions(config: NodeConfig, options: FormValues, settings: Pick<PubsubSettings, 'maxItemsLimit'>): void {
  const current = configurationForm(config);
  for (const [field, raw] of Object.entries(options)) {
    if (field === 'FORM_TYPE') continue;
    const key = FIELD_BY_VAR.get(field);
    if (!key) throw refuse.preconditionNotMet(`unsupported publish option ${field}`);
    const parsed = NODE_FIELDS[key].parse(singleValue(field, raw, refuse.preconditionNotMet), settings);
    const wanted = isInvalid(parsed) ? undefined : (NODE_FIELDS[key] as FieldSpec<NodeConfig[typeof key]>).format(parsed);
    if (wanted !== current[field]) throw refuse.preconditionNotMet(`${field} is ${current[field]}, not ${singleValue(field, raw, refuse.preconditionNotMet)}`);
  }
}

/** XEP-0060 §6.3 subscription options this service honours. */
export interface SubscriptionOptions {
  /** pubsub#deliver: whether notifications are sent for this subscription. */
  deliver: boolean;
}

export const DEFAULT_SUBSCRIPTION_OPTIONS: SubscriptionOptions = { deliver: true };
const DELIVER = booleanField('pubsub#deliver');

/** Applies a submitted options form; unknown fields or bad values → bad-request / invalid-options (§6.3.5). */
export function applySubscriptionOptionsForm(base: SubscriptionOptions, form: FormValues): SubscriptionOptions {
  const next = { ...base };
  for (const [field, raw] of Object.entries(form)) {
    if (field === 'FORM_TYPE') continue;
    if (field !== DELIVER.field) throw refuse.invalidOptions(`unsupported subscription option ${field}`);
    const parsed = DELIVER.parse(singleValue(field, raw, refuse.invalidOptions), { maxItemsLimit: 0 });
    if (isInvalid(parsed)) throw refuse.invalidOptions(parsed.invalid);
    next.deliver = parsed;
  }
  return next;
}

export const subscriptionOptionsForm = (options: SubscriptionOptions): Record<string, string> => ({ [DELIVER.field]: DELIVER.format(options.deliver) });
