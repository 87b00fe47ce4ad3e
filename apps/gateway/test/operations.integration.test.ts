import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { AccountCreated, AccountDeleted, AccountPasswordChanged, decodeEvent, topics } from '@hearth/contracts';
import { failedLogin, type RunningBroker } from '@hearth/testing';
import { startStack, type Stack } from './support/stack';

/** Bounded polling for a condition that becomes true eventually (readiness, relayed events). */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One sample of a Prometheus text exposition, e.g. metric('hearth_gateway_sessions{transport="tcp"}'). */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Every account event on hearth.accounts, read from the start by a fresh consumer group. */
async function accountEvents(brokers: string[], until: (events: { type: string; account: string; id: string }[]) => boolean) {
  const kafka = new Kafka({ clientId: 'operations-test', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `operations-test-${Date.now()}`, maxWaitTimeInMs: 100 });
  const events: { type: string; account: string; id: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: topics.accounts, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const event = decodeEvent(message.value) as { type: string; id: string; payload: { account: string } };
        events.push({ type: event.type, account: event.payload.account, id: event.id });
      },
    });
    await eventually(async () => (until(events) ? true : undefined), 'the account events on hearth.accounts');
    return events;
  } finally {
    await consumer.disconnect();
  }
}

const lifecycle = (events: { type: string; account: string }[], account: string) =>
  events.filter((e) => e.account === account).map((e) => e.type);

describe('gateway operations: readiness, metrics, account events on the log', () => {
  let stack: Stack;
  let broker: RunningBroker;

  before(async () => {
    // No polling within these tests: account events reach the log only because each command
    // tells its gateway's outbox relay to publish.
    stack = await startStack({ users: ['alice@localhost'], gatewayEnv: { HEARTH_GATEWAY_OUTBOX_POLL_MS: '600000' } });
    broker = stack.broker;
  });
  after(async () => {
    await stack?.stop();
    if (broker !== stack?.broker) await broker?.dispose(); // the restarted broker is not the stack's
  });

  const readyz = async () => {
    const response = await fetch(`${stack.gateways[0]!.adminUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as { ready: boolean; checks: Record<string, boolean> } };
  };

  test('/readyz turns 200 once database, broker and live-event consumer are there; /metrics counts logins, stanzas and failures', async () => {
    const ready = await eventually(async () => {
      const r = await readyz();
      return r.status === 200 ? r : undefined;
    }, '/readyz to answer 200', 20_000);
    assert.deepEqual(ready.body, { ready: true, checks: { database: true, broker: true, consumer: true } });

    const gateway = stack.gateways[0]!;
    assert.equal(await failedLogin({ service: `xmpp://127.0.0.1:${gateway.ports.c2s}`, domain: 'localhost', username: 'alice', password: 'wrong-password', mechanism: 'SCRAM-SHA-256' }), 'not-authorized');
    const alice = await stack.connect('alice@localhost', { resource: 'metrics' });
    try {
      const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
      assert.equal(sample(metrics, 'hearth_gateway_auth_failures_total{condition="not-authorized"}'), 1);
      assert.equal(sample(metrics, 'hearth_gateway_sessions{transport="tcp"}'), 1);
      assert.equal(sample(metrics, 'hearth_gateway_sessions{transport="websocket"}'), 0);
      assert.ok((sample(metrics, 'hearth_gateway_connections') ?? 0) >= 1, 'alice\'s connection is counted');
      assert.ok((sample(metrics, 'hearth_gateway_stanzas_total{direction="in",kind="iq"}') ?? 0) >= 1, 'the bind request came in');
      assert.ok((sample(metrics, 'hearth_gateway_stanzas_total{direction="out",kind="iq"}') ?? 0) >= 1, 'the bind result went out');
      assert.match(metrics, /^# TYPE hearth_gateway_append_duration_seconds histogram$/m);
      assert.match(metrics, /^# TYPE hearth_gateway_log_consumer_lag gauge$/m);
      assert.match(metrics, /^process_resident_memory_bytes\{service="gateway"\} \d+/m, 'default process metrics, labelled');
      const health = (await (await fetch(`${gateway.adminUrl}/healthz`)).json()) as Record<string, unknown>;
      assert.deepEqual(health, { status: 'ok', sessions: 1, connections: health.connections });
    } finally {
      await alice.stop();
    }
  });

  test('creating a user, changing the password and deleting it puts AccountCreated, AccountPasswordChanged, AccountDeleted on hearth.accounts once each', async () => {
    const gateway = stack.gateways[0]!;
    assert.equal((await gateway.admin('POST', '/admin/users', { jid: 'carol@localhost', password: 'carol-password-1' })).status, 201);
    assert.equal((await gateway.admin('PUT', '/admin/users/carol@localhost/password', { password: 'carol-password-2' })).status, 204);
    assert.equal((await gateway.admin('DELETE', '/admin/users/carol@localhost')).status, 204);
    // A later command as a fence: the outbox is relayed in order, so a duplicate of carol's would come before it.
    await gateway.createUser('fence1@localhost', 'fence-password');
    const events = await accountEvents(stack.broker.brokers, (seen) => seen.some((e) => e.account === 'fence1@localhost'));
    assert.deepEqual(lifecycle(events, 'carol@localhost'), [AccountCreated.type, AccountPasswordChanged.type, AccountDeleted.type]);
  });

  test('with the broker down, the admin API still works and the events follow once when it is back; /readyz says not ready meanwhile', async () => {
    const gateway = stack.gateways[0]!;
    await broker.kill();
    assert.equal((await gateway.admin('POST', '/admin/users', { jid: 'dave@localhost', password: 'dave-password-1' })).status, 201);
    assert.equal((await gateway.admin('PUT', '/admin/users/dave@localhost/password', { password: 'dave-password-2' })).status, 204);
    assert.equal((await gateway.admin('DELETE', '/admin/users/dave@localhost')).status, 204);
    const down = await readyz();
    assert.equal(down.status, 503);
    assert.equal(down.body.checks.broker, false);

    broker = await broker.restart();
    await gateway.createUser('fence2@localhost', 'fence-password');
    const events = await accountEvents(broker.brokers, (seen) => seen.some((e) => e.account === 'fence2@localhost'));
    assert.deepEqual(lifecycle(events, 'dave@localhost'), [AccountCreated.type, AccountPasswordChanged.type, AccountDeleted.type]);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'no event id twice on the topic');
    await eventually(async () => ((await readyz()).status === 200 ? true : undefined), '/readyz to recover', 30_000);
  });
});
