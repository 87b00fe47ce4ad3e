import type { GatewayConfig } from '../config';
import { ServiceClient } from './service-client';

/** The services behind the gateway; one that is not configured is absent and its module stays off. */
export interface BackingServices {
  archive?: ServiceClient;
  readState?: ServiceClient;
  pubsub?: ServiceClient;
  push?: ServiceClient;
}

export function connectBackingServices(config: GatewayConfig): BackingServices & { close(): void } {
  const services: BackingServices = {
    archive: config.HEARTH_ARCHIVE_GRPC_URL ? new ServiceClient('archive', 'Archive', config.HEARTH_ARCHIVE_GRPC_URL) : undefined,
    readState: config.HEARTH_READ_STATE_GRPC_URL ? new ServiceClient('read-state', 'ReadState', config.HEARTH_READ_STATE_GRPC_URL) : undefined,
    pubsub: config.HEARTH_PUBSUB_GRPC_URL ? new ServiceClient('pubsub', 'Pubsub', config.HEARTH_PUBSUB_GRPC_URL) : undefined,
    push: config.HEARTH_PUSH_GRPC_URL ? new ServiceClient('push', 'Push', config.HEARTH_PUSH_GRPC_URL) : undefined,
  };
  return { ...services, close: () => Object.values(services).forEach((client) => client?.close()) };
}
