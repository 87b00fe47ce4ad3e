import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Every event on the log travels in this envelope. `key` is also the Kafka record key, so all
 * events of one aggregate (a chat, a user, a pubsub node) land on one partition in order.
 */
export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  key: z.string().min(1),
  producer: z.string().min(1),
  correlationId: z.string().optional(),
  causationId: z.string().optional(),
  payload: z.unknown(),
});

export interface EventMetadata {
  key: string;
  producer: string;
  correlationId?: string;
  causationId?: string;
  /** Defaults to now; tests pass a controlled clock. */
  occurredAt?: Date;
  /** Defaults to a new UUID; a retried command passes the same id so the event stays unique. */
  id?: string;
}

export interface Envelope<T extends string = string, P = unknown> {
  id: string;
  type: T;
  version: number;
  occurredAt: string;
  key: string;
  producer: string;
  correlationId?: string;
  causationId?: string;
  payload: P;
}

export function envelopeOf<T extends string, P>(type: T, version: number, payload: P, meta: EventMetadata): Envelope<T, P> {
  return {
    id: meta.id ?? randomUUID(),
    type,
    version,
    occurredAt: (meta.occurredAt ?? new Date()).toISOString(),
    key: meta.key,
    producer: meta.producer,
    ...(meta.correlationId === undefined ? {} : { correlationId: meta.correlationId }),
    ...(meta.causationId === undefined ? {} : { causationId: meta.causationId }),
    payload,
  };
}
