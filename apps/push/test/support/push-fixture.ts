/**
 * The push service's world for integration tests: our broker, embedded PostgreSQL, the local
 * APNs server (which checks what Apple checks) and the push service wired to them, plus a
 * producer to append the other services' events and SQL on the push database.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import type { Envelope } from '@hearth/contracts';
import { createEventProducer, type EventProducer } from '@hearth/kafka';
import { startApnsServer, startBroker, startPostgres, type RunningApns, type RunningBroker, type TestPostgres } from '@hearth/testing';
import { eventually, projectionCaughtUp } from './log';
import { startPush, type RunningPush } from './push-service';

export const BUNDLE = 'com.example.chat';
export const ADMIN = 'admin-token-0123456789';

export interface PushFixture {
  broker: RunningBroker;
  postgres: TestPostgres;
  apns: RunningApns;
  push: RunningPush;
  kafka: Kafka;
  producer: EventProducer;
  /** The push service's own database. */
  db: Pool;
  append(...events: Envelope[]): Promise<void>;
  /** Resolves once the push projection has applied everything in the log. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPushFixture(database: string, env: Record<string, string>): Promise<PushFixture> {
  const [broker, postgres, apns] = await Promise.all([startBroker(), startPostgres(), startApnsServer({ topics: [BUNDLE] })]);
  const databaseUrl = await postgres.freshDatabase(database);
  const caFile = join(mkdtempSync(join(tmpdir(), 'hearth-push-ca-')), 'apns.pem');
  writeFileSync(caFile, apns.certificate);
  const push = await startPush({
    DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_ADMIN_TOKEN: ADMIN,
    HEARTH_APNS_ENDPOINT: apns.endpoint, HEARTH_APNS_CA_FILE: caFile,
    HEARTH_APNS_KEY_FILE: apns.keyFile, HEARTH_APNS_KEY_ID: apns.keyId, HEARTH_APNS_TEAM_ID: apns.teamId,
    ...env,
  });
  const kafka = new Kafka({ brokers: broker.brokers, clientId: `push-test-${database}`, logLevel: logLevel.NOTHING });
  const producer = await createEventProducer(kafka);
  const db = new Pool({ connectionString: databaseUrl, max: 2 });
  return {
    broker, postgres, apns, push, kafka, producer, db,
    append: (...events) => producer.publish(events),
    caughtUp: () => eventually(() => projectionCaughtUp(kafka, db), 'the push projection to catch up'),
    async stop() {
      await producer.disconnect().catch(() => undefined);
      await db.end().catch(() => undefined);
      await push.stop();
      await Promise.all([broker.dispose(), postgres.stop(), apns.stop()]);
    },
  };
}
