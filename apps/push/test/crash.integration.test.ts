/**
 * At most once across a crash: the push service is SIGKILLed while notifications flow, then
 * started again on the same database. The APNs server's record must hold no apns-id twice, and
 * every decided notification must end sent exactly once or recorded as unknown/failed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createEventProducer, type EventProducer } from '@hearth/kafka';
import { startApnsServer, startBroker, startPostgres, type RunningApns, type RunningBroker, type TestPostgres } from '@hearth/testing';
import { chatMessage, deviceToken, eventually } from './support/log';
import { startPush, type RunningPush } from './support/push-service';

const BUNDLE = 'com.example.chat';
const ADMIN = 'admin-token-0123456789';
const MESSAGES = 400;

let broker: RunningBroker;
let postgres: TestPostgres;
let apns: RunningApns;
let push: RunningPush | undefined;
let producer: EventProducer;
let db: Pool;
let env: Record<string, string>;

before(async () => {
  [broker, postgres, apns] = await Promise.all([startBroker(), startPostgres(), startApnsServer({ topics: [BUNDLE] })]);
  const databaseUrl = await postgres.freshDatabase('push_crash');
  const caFile = join(mkdtempSync(join(tmpdir(), 'hearth-push-ca-')), 'apns.pem');
  writeFileSync(caFile, apns.certificate);
  env = {
    DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_ADMIN_TOKEN: ADMIN,
    HEARTH_APNS_ENDPOINT: apns.endpoint, HEARTH_APNS_CA_FILE: caFile,
    HEARTH_APNS_KEY_FILE: apns.keyFile, HEARTH_APNS_KEY_ID: apns.keyId, HEARTH_APNS_TEAM_ID: apns.teamId,
    HEARTH_PUSH_BADGE_WAIT_MS: '0', HEARTH_PUSH_CONCURRENCY: '8',
    // The killed instance's group membership must expire before the new one gets the partitions.
    HEARTH_PUSH_CONSUMER_SESSION_TIMEOUT_MS: '6000',
  };
  push = await startPush(env);
  producer = await createEventProducer(new Kafka({ brokers: broker.brokers, clientId: 'push-crash-test', logLevel: 0 }));
  db = new Pool({ connectionString: databaseUrl, max: 2 });
});

after(async () => {
  await producer?.disconnect().catch(() => undefined);
  await db?.end().catch(() => undefined);
  await push?.kill();
  await Promise.all([broker?.dispose(), postgres?.stop(), apns?.stop()]);
});

test('killing the push service mid-stream and starting it again sends no notification twice', { timeout: 90_000 }, async () => {
  const token = deviceToken();
  const registered = await fetch(`${push!.url}/users/bob@localhost/devices/bob-iphone`, {
    method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deviceToken: token, bundleId: BUNDLE, environment: 'sandbox' }),
  });
  assert.equal(registered.status, 200);
  // Slow answers keep notifications in flight when the kill comes.
  apns.setResponseDelay(40);
  const messages = Array.from({ length: MESSAGES }, (_, i) => chatMessage(`user${i % 20}@localhost`, 'bob@localhost', `message ${i}`));
  await producer.publish(messages);

  await apns.waitFor(() => apns.accepted().length >= 60, 'the first 60 pushes');
  await push!.kill();
  const acceptedBeforeCrash = apns.accepted().length;
  assert.ok(acceptedBeforeCrash < MESSAGES, 'the crash came mid-stream');

  apns.setResponseDelay(0);
  push = await startPush(env);
  await eventually(async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM push_sends WHERE state IN ('sent', 'unknown', 'failed')`);
    return (rows[0] as { n: number }).n === MESSAGES;
  }, `all ${MESSAGES} notifications to be settled`, 60_000);

  const ids = apns.requests.map((r) => r.apnsId);
  assert.equal(new Set(ids).size, ids.length, 'no apns-id reached APNs twice');
  const { rows } = await db.query<{ apns_id: string; state: string }>('SELECT apns_id::text, state FROM push_sends');
  assert.equal(rows.length, MESSAGES, 'one decision per message and device');
  const received = new Set(ids);
  const accepted = new Set(apns.accepted().map((r) => r.apnsId));
  for (const row of rows) {
    if (row.state === 'sent') assert.ok(accepted.has(row.apns_id), `sent ${row.apns_id} was accepted by APNs`);
    else assert.equal(row.state, 'unknown', `only interrupted sends are unsettled (${row.apns_id}: ${row.state})`);
  }
  const unknown = rows.filter((r) => r.state === 'unknown');
  assert.ok(unknown.length <= 8, `at most one claim batch is interrupted (${unknown.length})`);
  for (const row of rows.filter((r) => r.state === 'sent')) assert.ok(received.has(row.apns_id));
  const sent = rows.filter((r) => r.state === 'sent').length;
  assert.equal(sent + unknown.length, MESSAGES, 'every notification was sent once, or is recorded as unknown (interrupted in flight)');
  assert.ok(accepted.size <= MESSAGES);
  assert.ok(sent > acceptedBeforeCrash - unknown.length, 'the restarted service went on sending');
});
