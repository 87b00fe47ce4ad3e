/**
 * Protocol details checked on the wire, without a client library: the advertised versions,
 * Fetch long-poll (max-wait and min-bytes), and the error codes of refused requests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type RunningBroker } from '@hearth/testing';
import { API_MODULES } from '../src/protocol/api-table';
import type { Reader } from '../src/protocol/codec';
import { ErrorCode } from '../src/protocol/error-codes';
import { encodeBatch } from '../src/protocol/record-batch';
import { RawClient } from './support/raw-client';

const API = { produce: 0, fetch: 1, listOffsets: 2, metadata: 3, findCoordinator: 10, apiVersions: 18, createTopics: 19 };

describe('Kafka protocol on the wire', () => {
  let broker: RunningBroker;
  let client: RawClient;

  before(async () => {
    broker = await startBroker({ env: { HEARTH_BROKER_MAX_MESSAGE_BYTES: '2000' } });
    client = await RawClient.connect(broker.port);
    const created = await client.request(API.createTopics, 0, (w) =>
      w.array(['wire'], (w, t) => w.string(t).int32(1).int16(1).array([], () => undefined).array([], () => undefined)).int32(5000),
    );
    created.int32();
    created.string();
    assert.equal(created.int16(), ErrorCode.NONE);
  });
  after(async () => {
    client?.close();
    await broker?.dispose();
  });

  function produce(records: Buffer, topic = 'wire'): Promise<{ errorCode: number; baseOffset: number }> {
    return client
      .request(API.produce, 7, (w) =>
        w.nullableString(null).int16(-1).int32(5000).array([topic], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).bytes(records))),
      )
      .then((r) => {
        r.int32();
        r.string();
        r.int32();
        r.int32();
        return { errorCode: r.int16(), baseOffset: r.int64() };
      });
  }

  /** Fetch v11 of partition 0; resolves with the error, high watermark and record bytes. */
  function fetch(offset: number, maxWaitMs: number, minBytes: number, c = client) {
    return c
      .request(API.fetch, 11, (w) =>
        w.int32(-1).int32(maxWaitMs).int32(minBytes).int32(1 << 20).int8(0).int32(0).int32(-1)
          .array(['wire'], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).int32(-1).int64(offset).int64(-1).int32(1 << 20)))
          .array([], () => undefined)
          .string(''),
      10_000)
      .then((r: Reader) => {
        r.int32(); // throttle
        assert.equal(r.int16(), ErrorCode.NONE);
        r.int32(); // session
        r.int32();
        r.string();
        r.int32();
        r.int32();
        const errorCode = r.int16();
        const highWatermark = r.int64();
        r.int64();
        r.int64();
        r.array(() => undefined);
        r.int32();
        return { errorCode, highWatermark, bytes: r.bytes().length };
      });
  }

  it('advertises exactly the versions its modules implement, in ApiVersions v0 and v3', async () => {
    const v0 = await client.request(API.apiVersions, 0, () => undefined);
    assert.equal(v0.int16(), ErrorCode.NONE);
    const advertised = v0.array((r) => [r.int16(), r.int16(), r.int16()]);
    assert.deepEqual(advertised, API_MODULES.map((m) => [m.key, m.minVersion, m.maxVersion]));
    // v3 is flexible: header v2 with tagged fields, compact arrays in the body.
    const v3 = await client.request(API.apiVersions, 3, (w) => w.uvarint(0).compactNullableString('raw').compactNullableString('1').emptyTaggedFields());
    assert.equal(v3.int16(), ErrorCode.NONE);
    const compact = v3.compactArray((r) => {
      const entry = [r.int16(), r.int16(), r.int16()];
      r.skipTaggedFields();
      return entry;
    });
    assert.deepEqual(compact, advertised);
  });

  it('holds a fetch until max-wait when fewer than min-bytes are there, and answers at once when an append brings enough', async () => {
    const start = Date.now();
    const empty = await fetch(0, 300, 1);
    assert.ok(Date.now() - start >= 280, 'waited for max-wait');
    assert.equal(empty.bytes, 0);

    const other = await RawClient.connect(broker.port);
    try {
      const waiting = fetch(0, 5000, 1, other);
      await new Promise((r) => setTimeout(r, 100));
      const producedAt = Date.now();
      assert.equal((await produce(encodeBatch([{ value: Buffer.from('wake up') }]))).errorCode, ErrorCode.NONE);
      const woken = await waiting;
      assert.ok(Date.now() - producedAt < 1000, 'answered on the append, not at max-wait');
      assert.ok(woken.bytes > 0);

      // min-bytes larger than what arrives: the answer waits for max-wait, then carries what there is.
      const startBig = Date.now();
      const partial = fetch(1, 400, 1 << 20, other);
      await produce(encodeBatch([{ value: Buffer.from('small') }]));
      const got = await partial;
      assert.ok(Date.now() - startBig >= 380, 'min-bytes not reached: waited for max-wait');
      assert.ok(got.bytes > 0);
    } finally {
      other.close();
    }
  });

  it('refuses with the protocol error codes', async () => {
    assert.equal((await produce(encodeBatch([{ value: Buffer.alloc(3000) }]))).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal((await produce(encodeBatch([{ value: Buffer.from('x') }]), 'no-such-topic')).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const { highWatermark } = await fetch(0, 0, 0);
    assert.equal((await fetch(highWatermark + 10, 0, 0)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it('answers ListOffsets, Metadata v0 (empty list means all topics) and FindCoordinator', async () => {
    const offsets = await client.request(API.listOffsets, 1, (w) =>
      w.int32(-1).array(['wire'], (w, t) => w.string(t).array([-2, -1], (w, ts) => w.int32(0).int64(ts))),
    );
    offsets.int32();
    offsets.string();
    const answers = offsets.array((r) => ({ partition: r.int32(), errorCode: r.int16(), timestamp: r.int64(), offset: r.int64() }));
    assert.equal(answers[0]!.offset, 0);
    assert.ok(answers[1]!.offset >= 2);

    const meta = await client.request(API.metadata, 0, (w) => w.array([], () => undefined));
    const brokers = meta.array((r) => ({ node: r.int32(), host: r.string(), port: r.int32() }));
    assert.deepEqual(brokers, [{ node: 1, host: '127.0.0.1', port: broker.port }]);
    const topics = meta.array((r) => ({ errorCode: r.int16(), name: r.string(), partitions: r.array((r) => (r.int16(), r.int32(), r.int32(), r.array((r) => r.int32()), r.array((r) => r.int32()))) }));
    assert.ok(topics.some((t) => t.name === 'wire' && t.partitions.length === 1));

    const coordinator = await client.request(API.findCoordinator, 2, (w) => w.string('some-group').int8(0));
    coordinator.int32();
    assert.equal(coordinator.int16(), ErrorCode.NONE);
    coordinator.nullableString();
    assert.deepEqual([coordinator.int32(), coordinator.string(), coordinator.int32()], [1, '127.0.0.1', broker.port]);
  });
});
