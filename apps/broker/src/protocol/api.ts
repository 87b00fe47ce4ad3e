/**
 * What one Kafka API module provides: its key, the versions it implements (exactly those are
 * advertised in ApiVersions) and a handler. https://kafka.apache.org/protocol#protocol_api_keys
 */
import type { Logger } from '@hearth/runtime';
import type { BrokerConfig } from '../config';
import type { GroupCoordinator } from '../groups/group-coordinator';
import type { OffsetStore } from '../groups/offset-store';
import type { ProducerIdAllocator } from '../storage/producer-ids';
import type { TopicRegistry } from '../storage/topic-registry';
import type { Reader, Writer } from './codec';

/** Everything a handler may use: the broker's state and its advertised identity. */
export interface BrokerServices {
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly groups: GroupCoordinator;
  readonly offsets: OffsetStore;
  readonly producerIds: ProducerIdAllocator;
  readonly nodeId: number;
  readonly clusterId: string;
  /** Host and port written into Metadata and FindCoordinator answers. */
  readonly advertised: { host: string; port: number };
  readonly apis: readonly ApiModule[];
  readonly log: Logger;
}

export interface RequestContext {
  readonly apiKey: number;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly clientHost: string;
  /** Positioned at the start of the request body. */
  readonly body: Reader;
  readonly broker: BrokerServices;
  /** Aborted when the client's connection closes (long polls stop waiting). */
  readonly signal: AbortSignal;
}

/** A response body, or null when the protocol sends none (Produce with acks=0). */
export type ResponseBody = Writer | null;

export interface ApiModule {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version (request header v2, KIP-482), when the module implements one. */
  readonly flexibleFrom?: number;
  /**
   * Runs synchronously up to its first await: the connection invokes handlers in request
   * order, so work done before the first await (log appends) keeps that order.
   */
  handle(ctx: RequestContext): ResponseBody | Promise<ResponseBody>;
}

/** int32 "authorized operations" when the client did not ask for them (KIP-430). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
