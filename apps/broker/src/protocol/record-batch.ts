/**
 * Record batches, magic v2: the unit the broker validates, stores and serves unchanged.
 * https://kafka.apache.org/documentation/#recordbatch
 *
 *   baseOffset: int64            <- assigned by the broker (outside the CRC)
 *   batchLength: int32
 *   partitionLeaderEpoch: int32  <- set by the broker (outside the CRC)
 *   magic: int8 (2)
 *   crc: uint32                  CRC-32C of everything from attributes to the end
 *   attributes: int16            bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *   lastOffsetDelta: int32
 *   baseTimestamp: int64
 *   maxTimestamp: int64
 *   producerId: int64
 *   producerEpoch: int16
 *   baseSequence: int32
 *   records: [Record]
 */
import { gunzipSync } from 'node:zlib';
import { crc32c } from './crc32c';
import { Reader } from './codec';
import { ErrorCode, KafkaError } from './error-codes';

export const BATCH_HEADER_BYTES = 61;
/** Bytes before batchLength's payload starts: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
const COMPRESSION_MASK = 0x07;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;

export interface BatchHeader {
  /** Where the batch starts in the buffer it was parsed from. */
  start: number;
  /** Total bytes of the batch, header included. */
  size: number;
  lastOffsetDelta: number;
  recordCount: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  compression: number;
}

/** Reads one batch header at `start`, checking only its framing (not the CRC). */
export function readBatchHeader(buf: Buffer, start: number): BatchHeader | null {
  if (buf.length - start < BATCH_HEADER_BYTES) return null;
  const batchLength = buf.readInt32BE(start + 8);
  const size = LOG_OVERHEAD + batchLength;
  if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD || start + size > buf.length) return null;
  if (buf.readInt8(start + 16) !== 2) return null;
  return {
    start,
    size,
    lastOffsetDelta: buf.readInt32BE(start + 23),
    recordCount: buf.readInt32BE(start + 57),
    maxTimestamp: Number(buf.readBigInt64BE(start + 35)),
    producerId: Number(buf.readBigInt64BE(start + 43)),
    producerEpoch: buf.readInt16BE(start + 51),
    baseSequence: buf.readInt32BE(start + 53),
    compression: buf.readInt16BE(start + ATTRIBUTES_OFFSET) & COMPRESSION_MASK,
  };
}

export function crcMatches(buf: Buffer, header: BatchHeader): boolean {
  const stored = buf.readUInt32BE(header.start + CRC_OFFSET);
  return crc32c(buf, header.start + ATTRIBUTES_OFFSET, header.start + header.size) === stored;
}

/**
 * Splits and validates the `records` field of a Produce request (one or more batches).
 * Compressed batches are stored as sent: consumers decompress them, as with Kafka.
 */
export function parseProducedBatches(records: Buffer): BatchHeader[] {
  const batches: BatchHeader[] = [];
  let at = 0;
  while (at < records.length) {
    if (records.length - at >= 17 && records.readInt8(at + 16) !== 2) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch magic ${records.readInt8(at + 16)} (only v2 is accepted)`);
    }
    const header = readBatchHeader(records, at);
    if (header === null) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'truncated record batch');
    if (!crcMatches(records, header)) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC mismatch');
    const attributes = records.readInt16BE(at + ATTRIBUTES_OFFSET);
    if (header.compression > Compression.zstd) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression codec ${header.compression}`);
    }
    if (attributes & (TRANSACTIONAL_FLAG | CONTROL_FLAG)) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, 'transactional and control batches are not supported');
    }
    if (header.recordCount <= 0 || header.lastOffsetDelta !== header.recordCount - 1) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, `record count ${header.recordCount} with lastOffsetDelta ${header.lastOffsetDelta}`);
    }
    batches.push(header);
    at += header.size;
  }
  if (batches.length === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'empty record set');
  return batches;
}

/** Stamps the broker-assigned fields that lie outside the CRC. */
export function assignBaseOffset(buf: Buffer, start: number, baseOffset: number): void {
  buf.writeBigInt64BE(BigInt(baseOffset), start);
  buf.writeInt32BE(0, start + 12); // partitionLeaderEpoch: one broker, epoch 0 forever
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

/**
 * Decodes the records of one batch (none or gzip), for the few places the broker must look
 * inside: ListOffsets by timestamp. Returns null for codecs it stores without reading.
 */
export function decodeRecords(buf: Buffer, header: BatchHeader): DecodedRecord[] | null {
  const baseOffset = Number(buf.readBigInt64BE(header.start));
  const baseTimestamp = Number(buf.readBigInt64BE(header.start + 27));
  let body = buf.subarray(header.start + BATCH_HEADER_BYTES, header.start + header.size);
  if (header.compression === Compression.gzip) body = gunzipSync(body);
  else if (header.compression !== Compression.none) return null;
  const r = new Reader(body);
  const out: DecodedRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    r.varint(); // length
    r.int8(); // attributes
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const keyLength = r.varint();
    const key = keyLength < 0 ? null : Buffer.from(body.subarray(r.position, r.position + keyLength));
    if (keyLength > 0) r.skip(keyLength);
    const valueLength = r.varint();
    const value = valueLength < 0 ? null : Buffer.from(body.subarray(r.position, r.position + valueLength));
    if (valueLength > 0) r.skip(valueLength);
    const headers: DecodedRecord['headers'] = [];
    const headerCount = r.varint();
    for (let h = 0; h < headerCount; h++) {
      const kl = r.varint();
      const k = body.toString('utf8', r.position, r.position + kl);
      r.skip(kl);
      const vl = r.varint();
      headers.push({ key: k, value: vl < 0 ? null : Buffer.from(body.subarray(r.position, r.position + vl)) });
      if (vl > 0) r.skip(vl);
    }
    out.push({ offset: baseOffset + offsetDelta, timestamp: baseTimestamp + timestampDelta, key, value, headers });
  }
  return out;
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}
function varintBytes(v: number): Buffer {
  const bytes: number[] = [];
  let u = zigzag(v);
  while (u >= 0x80) {
    bytes.push((u % 128) | 0x80);
    u = Math.floor(u / 128);
  }
  bytes.push(u);
  return Buffer.from(bytes);
}

/**
 * Encodes an uncompressed batch (magic v2). The broker never builds batches itself; this is for
 * codec tests and for raw-protocol tests that must not depend on a client library.
 */
export function encodeBatch(
  records: { key?: Buffer | null; value: Buffer | null; timestamp?: number }[],
  options: { baseOffset?: number; producerId?: number; producerEpoch?: number; baseSequence?: number } = {},
): Buffer {
  const now = Date.now();
  const baseTimestamp = records[0]?.timestamp ?? now;
  let maxTimestamp = baseTimestamp;
  const bodies = records.map((rec, i) => {
    const timestamp = rec.timestamp ?? now;
    maxTimestamp = Math.max(maxTimestamp, timestamp);
    const key = rec.key ?? null;
    const parts = [
      Buffer.from([0]),
      varintBytes(timestamp - baseTimestamp),
      varintBytes(i),
      varintBytes(key === null ? -1 : key.length),
      key ?? Buffer.alloc(0),
      varintBytes(rec.value === null ? -1 : rec.value.length),
      rec.value ?? Buffer.alloc(0),
      varintBytes(0),
    ];
    const body = Buffer.concat(parts);
    return Buffer.concat([varintBytes(body.length), body]);
  });
  const recordsBytes = Buffer.concat(bodies);
  const buf = Buffer.alloc(BATCH_HEADER_BYTES + recordsBytes.length);
  buf.writeBigInt64BE(BigInt(options.baseOffset ?? 0), 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, 8);
  buf.writeInt32BE(0, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(0, 21);
  buf.writeInt32BE(records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(BigInt(options.producerId ?? -1), 43);
  buf.writeInt16BE(options.producerEpoch ?? -1, 51);
  buf.writeInt32BE(options.baseSequence ?? -1, 53);
  buf.writeInt32BE(records.length, 57);
  recordsBytes.copy(buf, BATCH_HEADER_BYTES);
  buf.writeUInt32BE(crc32c(buf, ATTRIBUTES_OFFSET), CRC_OFFSET);
  return buf;
}
