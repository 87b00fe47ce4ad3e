import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@hearth/runtime';
import { startBroker, type RunningBroker } from '@hearth/testing';
import { createKafka } from '../src';

const logger = createLogger('client-test', 'silent');
let broker: RunningBroker;

before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker?.dispose();
});

test('the TimeoutNegativeWarning from the kafkajs request queue is not reported; the same warning from elsewhere still is', async () => {
  const warnings: Error[] = [];
  const collect = (warning: Error) => warnings.push(warning);
  process.on('warning', collect);
  try {
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'warning-test', logger });
    const admin = kafka.admin();
    await admin.connect();
    await admin.listTopics(); // each request goes through the request queue that schedules the negative timer
    await admin.disconnect();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    assert.deepEqual(warnings.map((w) => w.name), [], 'kafkajs traffic raised no warning');

    // Node reports a negative timeout once per process, so a real one cannot follow: raise the
    // same warning from outside kafkajs directly.
    process.emitWarning('-5 is a negative number.', 'TimeoutNegativeWarning');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.map((w) => w.name), ['TimeoutNegativeWarning'], 'the same warning from elsewhere is still reported');
  } finally {
    process.off('warning', collect);
  }
});
