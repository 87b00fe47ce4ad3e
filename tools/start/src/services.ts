/**
 * The services `npm start` runs, in start order, with their default ports (DESIGN.md). A
 * service whose build output does not exist yet is simply not started.
 */
export interface ServiceDefinition {
  name: string;
  /** Database name; undefined for services without one. */
  database?: string;
  httpPort: number;
  grpcPort?: number;
  /** Extra variables: ports of the XMPP endpoints and such. */
  env?: Record<string, string>;
  /** What `npm start` polls before it calls the service started. */
  readinessPath: string;
}

export const services: ServiceDefinition[] = [
  { name: 'archive', database: 'hearth_archive', httpPort: 8081, grpcPort: 50051, readinessPath: '/readyz' },
  { name: 'read-state', database: 'hearth_read_state', httpPort: 8082, grpcPort: 50052, readinessPath: '/readyz' },
  { name: 'pubsub', database: 'hearth_pubsub', httpPort: 8083, grpcPort: 50053, readinessPath: '/readyz' },
  { name: 'push', database: 'hearth_push', httpPort: 8084, grpcPort: 50054, readinessPath: '/readyz' },
  { name: 'gateway', database: 'hearth_gateway', httpPort: 5280, env: { HEARTH_GATEWAY_HTTP_PORT: '5280' }, readinessPath: '/readyz' },
];

export const DEFAULT_BROKER_PORT = 9092;
export const DEFAULT_POSTGRES_PORT = 5433;
export const DEMO_USERS = ['alice', 'bob', 'carol'];
export const DEMO_PASSWORD = 'hearth';
