/**
 * Fuzz-style robustness: random bytes, random and truncated frames for every API and version,
 * corrupted produce requests, oversized and negative sizes. The broker must answer with an error
 * or close that one connection, never crash, and then serve a normal client as before.
 * The generator is seeded (HEARTH_FUZZ_SEED) so a failure can be replayed.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '@hearth/testing';
import { API_MODULES } from '../src/protocol/api-table';
import { ErrorCode } from '../src/protocol/error-codes';
import { encodeBatch } from '../src/protocol/record-batch';
import { RawClient } from './support/raw-client';
import { startLossyProxy } from './support/lossy-proxy';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const SEED = Number(process.env.HEARTH_FUZZ_SEED ?? 20240611);
const MAX_REQUEST_BYTES = 64 * 1024;
/** How long a fuzz connection stays open for the broker to answer or close it. */
const LINGER_MS = 30;

/** mulberry32: small, seedable, good enough to spread inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzzing the broker', () => {
  let broker: RunningBroker;
  const random = prng(SEED);
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

  before(async () => {
    broker = await startBroker({
      env: { HEARTH_BROKER_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES), HEARTH_BROKER_MAX_PARTITIONS: '200' },
    });
  });
  const extraBrokers: RunningBroker[] = [];
  after(async () => {
    await broker?.dispose();
    for (const b of extraBrokers) await b.dispose();
  });
  afterEach(() => {
    const errors = broker.logs().filter((line) => /"level":(50|60)/.test(line));
    assert.deepEqual(errors, [], 'bad input is refused without an internal error');
  });

  /** Sends bytes on a fresh connection, optionally cuts it mid-frame; resolves when it is done. */
  function send(payload: Buffer, hangUp = true, port = broker.port): Promise<{ closedByBroker: boolean; answer: Buffer }> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      let closedByBroker = false;
      let answer = Buffer.alloc(0);
      socket.on('data', (d) => (answer = Buffer.concat([answer, d])));
      socket.on('error', () => undefined);
      socket.on('end', () => (closedByBroker = true));
      socket.on('close', () => resolve({ closedByBroker, answer }));
      socket.on('connect', () => {
        socket.write(payload);
        setTimeout(() => (hangUp ? socket.destroy() : undefined), LINGER_MS);
      });
    });
  }

  function frame(apiKey: number, version: number, body: Buffer): Buffer {
    const clientId = Buffer.from('fuzz');
    const header = Buffer.alloc(14);
    header.writeInt32BE(10 + clientId.length + body.length, 0);
    header.writeInt16BE(apiKey, 4);
    header.writeInt16BE(version, 6);
    header.writeInt32BE(int(1 << 30), 8);
    header.writeInt16BE(clientId.length, 12);
    return Buffer.concat([header, clientId, body]);
  }

  async function assertServesNormalClient(target = broker): Promise<void> {
    const kafka = new Kafka({ brokers: target.brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const producer = kafka.producer();
    await producer.connect();
    const topic = `after-fuzz-${int(1e9)}`;
    const [result] = await producer.send({ topic, acks: -1, messages: [{ value: 'still here' }] });
    assert.equal(result!.errorCode, 0);
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets(topic);
    assert.equal(offsets!.high, '1');
    await admin.disconnect();
  }

  /** Sends many payloads, a few connections at a time. */
  async function sendAll(payloads: Buffer[], port = broker.port): Promise<void> {
    for (let i = 0; i < payloads.length; i += 10) await Promise.all(payloads.slice(i, i + 10).map((p) => send(p, true, port)));
  }

  it('survives random bytes', async () => {
    await sendAll(Array.from({ length: 150 }, () => bytes(1 + int(600))));
    await assertServesNormalClient();
  });

  it('survives random and truncated bodies for every API and version, and unknown keys and versions', async () => {
    const payloads: Buffer[] = [];
    for (const api of API_MODULES) {
      for (let version = api.minVersion; version <= api.maxVersion + 1; version++) {
        for (let i = 0; i < 12; i++) {
          const body = bytes(int(i < 6 ? 16 : 300));
          const whole = frame(api.key, version, body);
          // Half of them cut short: the size promises more than arrives.
          payloads.push(i % 2 === 0 ? whole : whole.subarray(0, 4 + int(whole.length - 4)));
        }
      }
    }
    for (const apiKey of [-1, 17, 36, 999, 32767]) payloads.push(frame(apiKey, 0, bytes(20)));
    await sendAll(payloads);
    await assertServesNormalClient();
  });

  it('closes connections with oversized, undersized or negative frame sizes and keeps serving', async () => {
    for (const size of [MAX_REQUEST_BYTES + 1, 0x7fffffff, -1, -2147483648, 0, 3, 9]) {
      const header = Buffer.alloc(4);
      header.writeInt32BE(size);
      const outcome = await send(Buffer.concat([header, bytes(32)]), false);
      assert.ok(outcome.closedByBroker, `size ${size}: connection closed by the broker`);
      assert.equal(outcome.answer.length, 0);
    }
    await assertServesNormalClient();
  });

  it('survives mutated copies of the requests of a real kafkajs session', async () => {
    // Record a session (admin, producer, consumer group) through a proxy the broker advertises...
    const proxy = await startLossyProxy(0, 0);
    const recording = await startBroker({ env: { HEARTH_BROKER_ADVERTISED_PORT: String(proxy.port), HEARTH_BROKER_MAX_PARTITIONS: '200' } });
    extraBrokers.push(recording);
    proxy.setTarget(recording.port);
    const kafka = new Kafka({ brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'recorded', numPartitions: 2 }] });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'recorded', acks: -1, messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }, { value: 'w' }] });
    const consumer = kafka.consumer({ groupId: 'recorded-group', maxWaitTimeInMs: 50, sessionTimeout: 1000, heartbeatInterval: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'recorded', fromBeginning: true });
    await new Promise<void>((resolve) => void consumer.run({ eachMessage: async () => resolve() }));
    await consumer.disconnect();
    await admin.describeGroups(['recorded-group']);
    await admin.fetchTopicOffsets('recorded');
    await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: 2, name: 'recorded' }] });
    await producer.disconnect();
    await admin.disconnect();
    const recorded = [...proxy.requests];
    assert.ok(recorded.length > 10);

    // ...then replay each request many times, mutated: flipped bytes, cut short, or grown.
    const mutants: Buffer[] = [];
    for (const original of recorded) {
      for (let i = 0; i < 15; i++) {
        let m = Buffer.from(original);
        const kind = i % 3;
        if (kind === 0) {
          // flip bytes after the request header's api key/version, keeping the frame size
          for (let f = 0; f < 1 + int(4); f++) m[8 + int(m.length - 8)] ^= 1 + int(255);
        } else if (kind === 1) {
          m = m.subarray(0, 14 + int(Math.max(1, m.length - 14)));
        } else {
          m = Buffer.concat([m, bytes(1 + int(64))]);
        }
        m = Buffer.from(m);
        m.writeInt32BE(m.length - 4, 0);
        mutants.push(m);
      }
    }
    await sendAll(mutants, recording.port);
    await assertServesNormalClient(recording); // through the proxy, which it advertises
    await proxy.close();
    const errors = recording.logs().filter((line) => /"level":(50|60)/.test(line));
    assert.deepEqual(errors, [], 'mutated requests are refused without an internal error');
  });

  it('answers ApiVersions of an unknown version with UNSUPPORTED_VERSION in v0', async () => {
    const client = await RawClient.connect(broker.port);
    const answer = await client.request(18, 42, () => undefined);
    assert.equal(answer.int16(), ErrorCode.UNSUPPORTED_VERSION);
    const apis = answer.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    assert.ok(apis.some((a) => a.key === 18 && a.max === 3));
    client.close();
  });

  it('refuses corrupted record batches with CORRUPT_MESSAGE and stores nothing from them', async () => {
    const client = await RawClient.connect(broker.port);
    const topic = 'fuzzed-produce';
    await client.request(3, 4, (w) => w.array([topic], (w, t) => w.string(t)).boolean(true));
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const batch = encodeBatch([{ value: bytes(1 + int(100)) }, { value: bytes(int(50)) }]);
      // Corrupt bytes from the magic byte on (baseOffset and leader epoch are rewritten by the broker).
      const positions = new Set(Array.from({ length: 1 + int(3) }, () => 16 + int(batch.length - 16)));
      for (const at of positions) batch[at]! ^= 1 + int(255);
      let answer;
      try {
        answer = await client.request(0, 3, (w) =>
          w.nullableString(null).int16(-1).int32(1000).array([topic], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).bytes(batch))),
        );
      } catch {
        continue; // framing damaged badly enough to close the connection: also acceptable
      }
      answer.int32();
      answer.string();
      answer.int32();
      answer.int32();
      const code = answer.int16();
      assert.notEqual(code, ErrorCode.NONE, 'a corrupted batch is never stored');
      refused++;
    }
    assert.ok(refused > 150);
    client.close();
    await assertServesNormalClient();
  });
});
