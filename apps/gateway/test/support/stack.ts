import { connectXmpp, startBroker, startPostgres, startService, trustCertificate, type RunningBroker, type RunningService, type TestPostgres, type TestXmppClient } from '@hearth/testing';
import { ADMIN_TOKEN, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, startGatewayProcess, type GatewayProcess } from './gateway-process';

export type BackingServiceName = 'archive' | 'read-state' | 'pubsub' | 'push';

export interface StackOptions {
  /** Backing services to run beside the gateway(s); none by default. */
  services?: BackingServiceName[];
  /** Number of gateway processes sharing the broker and the gateway database (default 1). */
  gateways?: number;
  /** Accounts created with password `hearth`, e.g. ['alice@localhost', 'bob@localhost']. */
  users?: string[];
  /** Extra environment per gateway and per service. */
  gatewayEnv?: Record<string, string>;
  serviceEnv?: Partial<Record<BackingServiceName, Record<string, string>>>;
  /** Broker environment, e.g. { HEARTH_BROKER_DEFAULT_PARTITIONS: '3' }. */
  brokerEnv?: Record<string, string>;
}

export interface Stack {
  broker: RunningBroker;
  postgres: TestPostgres;
  gatewayDatabaseUrl: string;
  gateways: GatewayProcess[];
  services: Partial<Record<BackingServiceName, RunningService>>;
  /** Each backing service's database URL, for SQL checks of its projection. */
  databases: Partial<Record<BackingServiceName, string>>;
  /** Environment a further gateway needs to join this stack (broker, database, gRPC URLs). */
  gatewayEnv: Record<string, string>;
  /** Logs a user in over TCP+STARTTLS to gateway `gateway` (default 0) with password `hearth`. */
  connect(jid: string, options?: { resource?: string; gateway?: number }): Promise<TestXmppClient>;
  /** Starts one more gateway on this stack. */
  addGateway(env?: Record<string, string>): Promise<GatewayProcess>;
  stop(): Promise<void>;
}

export const PASSWORD = 'hearth';

const SERVICE_GRPC_VARIABLE: Record<BackingServiceName, string> = {
  archive: 'HEARTH_ARCHIVE_GRPC_URL',
  'read-state': 'HEARTH_READ_STATE_GRPC_URL',
  pubsub: 'HEARTH_PUBSUB_GRPC_URL',
  push: 'HEARTH_PUSH_GRPC_URL',
};

/**
 * The whole system for a scenario, every part a real process: our broker, embedded PostgreSQL
 * (one database per service), the backing services asked for, and gateway processes wired to
 * them as `npm start` wires them. Everything is stopped by `stop()` (call it in `after`).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const started: Array<{ stop(): Promise<unknown> }> = [];
  const broker = await startBroker({ env: options.brokerEnv });
  started.push({ stop: () => broker.dispose() });
  try {
    const postgres = await startPostgres();
    started.push(postgres);
    const common = {
      HEARTH_KAFKA_BROKERS: broker.brokers.join(','),
      HEARTH_DOMAINS: 'localhost',
      HEARTH_ADMIN_TOKEN: ADMIN_TOKEN,
      HEARTH_JWT_SECRET: JWT_SECRET,
      HEARTH_MODE: 'development',
    };
    const services: Stack['services'] = {};
    const databases: Stack['databases'] = {};
    const grpcUrls: Record<string, string> = {};
    // Services call each other (push asks read-state for badges), so URLs of the earlier ones are passed on.
    for (const name of options.services ?? []) {
      databases[name] = await postgres.freshDatabase(name.replace('-', '_'));
      const service = await startService({
        app: name,
        env: { ...common, ...grpcUrls, DATABASE_URL: databases[name], ...options.serviceEnv?.[name] },
      });
      started.push(service);
      services[name] = service;
      grpcUrls[SERVICE_GRPC_VARIABLE[name]] = `127.0.0.1:${service.grpcPort}`;
    }
    const gatewayDatabaseUrl = await postgres.freshDatabase('gateway');
    const gatewayEnv = {
      ...common, ...grpcUrls, DATABASE_URL: gatewayDatabaseUrl,
      HEARTH_JWT_ISSUER: JWT_ISSUER, HEARTH_JWT_AUDIENCE: JWT_AUDIENCE, ...options.gatewayEnv,
    };
    const gateways: GatewayProcess[] = [];
    const addGateway = async (env: Record<string, string> = {}) => {
      // One certificate for all gateways: clients trust it once (two self-signed certificates
      // for the same name would make TLS verification pick the wrong one).
      const first = gateways[0];
      const tls: Record<string, string> = first ? { HEARTH_TLS_CERT_FILE: first.certFile, HEARTH_TLS_KEY_FILE: first.certFile.replace(/dev-cert\.pem$/, 'dev-key.pem') } : {};
      const gateway = await startGatewayProcess({ ...gatewayEnv, ...tls, ...env });
      started.push(gateway);
      gateways.push(gateway);
      trustCertificate(gateway.certFile);
      return gateway;
    };
    for (let i = 0; i < (options.gateways ?? 1); i++) await addGateway();
    for (const jid of options.users ?? []) await gateways[0]!.createUser(jid, PASSWORD);

    return {
      broker, postgres, gatewayDatabaseUrl, gateways, services, databases, gatewayEnv, addGateway,
      connect: (jid, { resource, gateway = 0 } = {}) => {
        const [local, domain] = jid.split('@') as [string, string];
        return connectXmpp({ service: `xmpp://127.0.0.1:${gateways[gateway]!.ports.c2s}`, domain, username: local, password: PASSWORD, mechanism: 'SCRAM-SHA-256', resource });
      },
      stop: () => stopAll(started),
    };
  } catch (error) {
    await stopAll(started);
    throw error;
  }
}

/** Stops in reverse start order: gateways first, the broker last. */
async function stopAll(started: Array<{ stop(): Promise<unknown> }>): Promise<void> {
  for (const part of started.reverse()) await part.stop().catch(() => undefined);
}
