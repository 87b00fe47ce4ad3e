import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from './crc32c';
import { ErrorCode, KafkaError } from './error-codes';
import { assignBaseOffset, crcMatches, decodeRecords, encodeBatch, parseProducedBatches, readBatchHeader } from './record-batch';

const refusedWith = (code: number) => (error: unknown) => error instanceof KafkaError && error.code === code;

describe('record batches (magic v2)', () => {
  it('computes CRC-32C (Castagnoli) check values', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  });

  it('parses a batch, and rewriting its base offset keeps the CRC valid', () => {
    const t = 1_700_000_000_000;
    const batch = encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v1'), timestamp: t }, { value: Buffer.from('v2'), timestamp: t + 5 }]);
    const [header] = parseProducedBatches(batch);
    assert.equal(header!.recordCount, 2);
    assert.equal(header!.lastOffsetDelta, 1);
    assert.equal(header!.maxTimestamp, t + 5);
    assignBaseOffset(batch, 0, 42);
    assert.ok(crcMatches(batch, readBatchHeader(batch, 0)!));
    const records = decodeRecords(batch, header!)!;
    assert.deepEqual(records.map((r) => [r.offset, r.key?.toString() ?? null, r.value!.toString(), r.timestamp]), [
      [42, 'k', 'v1', t],
      [43, null, 'v2', t + 5],
    ]);
  });

  it('splits a record set holding several batches', () => {
    const set = Buffer.concat([encodeBatch([{ value: Buffer.from('a') }]), encodeBatch([{ value: Buffer.from('b') }, { value: null }])]);
    assert.deepEqual(parseProducedBatches(set).map((b) => b.recordCount), [1, 2]);
  });

  it('refuses corrupt, truncated, old-format and transactional batches', () => {
    const good = encodeBatch([{ value: Buffer.from('payload') }]);
    const flipped = Buffer.from(good);
    flipped[good.length - 1]! ^= 0xff;
    assert.throws(() => parseProducedBatches(flipped), refusedWith(ErrorCode.CORRUPT_MESSAGE));
    assert.throws(() => parseProducedBatches(good.subarray(0, good.length - 1)), refusedWith(ErrorCode.CORRUPT_MESSAGE));
    const oldMagic = Buffer.from(good);
    oldMagic[16] = 1;
    assert.throws(() => parseProducedBatches(oldMagic), refusedWith(ErrorCode.CORRUPT_MESSAGE));
    const transactional = Buffer.from(good);
    transactional.writeInt16BE(0x10, 21);
    transactional.writeUInt32BE(crc32c(transactional, 21), 17);
    assert.throws(() => parseProducedBatches(transactional), refusedWith(ErrorCode.INVALID_RECORD));
    const badCodec = Buffer.from(good);
    badCodec.writeInt16BE(0x05, 21);
    badCodec.writeUInt32BE(crc32c(badCodec, 21), 17);
    assert.throws(() => parseProducedBatches(badCodec), refusedWith(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE));
    assert.throws(() => parseProducedBatches(Buffer.alloc(0)), refusedWith(ErrorCode.CORRUPT_MESSAGE));
  });
});
