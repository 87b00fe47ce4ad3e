import { z } from 'zod';
import { compiledCheck } from './compiled-check';
import { envelopeOf, envelopeSchema, type Envelope, type EventMetadata } from './envelope';

/** An event that does not match its contract; `reason` says which field and why. */
export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
  constructor(readonly reason: string, readonly eventType?: string) {
    super(eventType ? `${eventType}: ${reason}` : reason);
  }
}

/**
 * One published version of an event. A published version never changes; a new shape is a new
 * version whose `upcastFrom` turns the previous version's payload into the new one, so
 * consumers only ever see the latest.
 */
export interface EventContract<T extends string, P> {
  readonly type: T;
  readonly version: number;
  readonly topic: string;
  readonly schema: z.ZodType<P>;
}

type AnyContract = EventContract<string, unknown>;
interface RegisteredVersion {
  contract: AnyContract;
  upcast?: (older: unknown) => unknown;
}

const versionsByType = new Map<string, Map<number, RegisteredVersion>>();
const latestByType = new Map<string, AnyContract>();

export function defineEvent<T extends string, S extends z.ZodType>(
  type: T,
  version: number,
  topic: string,
  schema: S,
  upcastFrom?: (previousPayload: unknown) => z.input<S>,
): EventContract<T, z.output<S>> {
  const contract = { type, version, topic, schema } as EventContract<T, z.output<S>>;
  const versions = versionsByType.get(type) ?? new Map<number, RegisteredVersion>();
  if (versions.has(version)) throw new Error(`event ${type} v${version} is defined twice`);
  if (version > 1 && !upcastFrom) throw new Error(`event ${type} v${version} needs an upcaster from v${version - 1}`);
  versions.set(version, { contract: contract as AnyContract, ...(upcastFrom ? { upcast: upcastFrom } : {}) });
  versionsByType.set(type, versions);
  const latest = latestByType.get(type);
  if (!latest || latest.version < version) latestByType.set(type, contract as AnyContract);
  return contract;
}

export type EventOf<C> = C extends EventContract<infer T, infer P> ? Envelope<T, P> : never;
export type PayloadOf<C> = C extends EventContract<string, infer P> ? P : never;

/** Builds an event and checks it against its contract (the produce-side check). */
export function createEvent<T extends string, P>(
  contract: EventContract<T, P>,
  payload: P,
  meta: EventMetadata,
): Envelope<T, P> {
  const latest = latestByType.get(contract.type);
  if (latest && latest.version !== contract.version) {
    throw new ContractViolation(`only the latest version (v${latest.version}) may be produced`, contract.type);
  }
  const parsed = contract.schema.safeParse(payload);
  if (!parsed.success) throw new ContractViolation(describe(parsed.error), contract.type);
  const event = deepFreeze(envelopeOf(contract.type, contract.version, parsed.data, meta));
  checked.add(event);
  return event;
}

/**
 * Events built by createEvent: checked once, and frozen so they stay as checked. encodeEvent
 * does not check them again (zod was a tenth of the gateway's CPU per message, half of it spent
 * checking each message twice).
 */
const checked = new WeakSet<object>();

/** Serialises an event for the log, checking envelope and payload unless createEvent already did. */
export function encodeEvent(event: Envelope): Buffer {
  if (!checked.has(event)) checkEvent(event, conformZod);
  return Buffer.from(JSON.stringify(event));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Parses a record value from the log (the consume-side check): envelope, known type, payload
 * schema, then upcasting to the latest version.
 */
export function decodeEvent(value: Buffer | string | null): Envelope {
  if (value === null) throw new ContractViolation('record has no value');
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw new ContractViolation('record value is not JSON');
  }
  // The value was just parsed, so the compiled checks may remove its unknown keys in place.
  return checkEvent(raw, conformCompiled);
}

/** `value` as `schema` returns it, or the first reason it breaks the schema. */
type Conform = <T>(schema: z.ZodType<T>, value: unknown) => { data: T } | { reason: string };

/** zod alone: leaves `value` as it is (encodeEvent's event belongs to the caller). */
const conformZod: Conform = (schema, value) => {
  const parsed = schema.safeParse(value);
  return parsed.success ? { data: parsed.data } : { reason: describe(parsed.error) };
};

/** The schema's compiled check (see compiled-check.ts), and zod for what it does not accept. */
const conformCompiled: Conform = <T>(schema: z.ZodType<T>, value: unknown) =>
  compiledCheck(schema)?.(value) ? { data: value as T } : conformZod(schema, value);

function checkEvent(raw: unknown, conform: Conform): Envelope {
  const envelope = conform(envelopeSchema, raw);
  if ('reason' in envelope) throw new ContractViolation(`envelope: ${envelope.reason}`);
  const { type, version } = envelope.data;
  const versions = versionsByType.get(type);
  if (!versions) throw new ContractViolation(`unknown event type`, type);
  const registered = versions.get(version);
  if (!registered) throw new ContractViolation(`unknown version ${version}`, type);
  const parsed = conform(registered.contract.schema, envelope.data.payload);
  if ('reason' in parsed) throw new ContractViolation(`v${version}: ${parsed.reason}`, type);

  let payload: unknown = parsed.data;
  let current = version;
  const latest = latestByType.get(type)!;
  while (current < latest.version) {
    const next = versions.get(current + 1)!;
    const upcasted = conformZod(next.contract.schema, next.upcast!(payload));
    if ('reason' in upcasted) throw new ContractViolation(`upcast to v${current + 1}: ${upcasted.reason}`, type);
    payload = upcasted.data;
    current += 1;
  }
  // The registered type: one string shared by every event of the type, not one per record.
  return { ...(envelope.data as Envelope), type: latest.type, version: current, payload };
}

/** The topic an event type is published to. */
export function topicOf(event: Pick<Envelope, 'type'>): string {
  const contract = latestByType.get(event.type);
  if (!contract) throw new ContractViolation('unknown event type', event.type);
  return contract.topic;
}

/** Narrows a decoded event to one contract. */
export function isEvent<T extends string, P>(event: Envelope, contract: EventContract<T, P>): event is Envelope<T, P> {
  return event.type === contract.type;
}

/** Every registered version, for golden-fixture tests and documentation. */
export function registeredEvents(): { type: string; version: number; topic: string }[] {
  return [...versionsByType.values()].flatMap((versions) =>
    [...versions.values()].map(({ contract }) => ({ type: contract.type, version: contract.version, topic: contract.topic })),
  );
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}
