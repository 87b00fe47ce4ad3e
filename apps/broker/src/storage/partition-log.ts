/**
 * The log of one partition: append-only segment files `<base offset>.log`, each with an
 * `<base offset>.index` of one 48-byte entry per batch, in the partition's directory.
 *
 * Durability: an append gets its offsets at once (in request order) and is written by the next
 * group commit; the high watermark, which bounds what consumers can read, moves only after the
 * write (and its fdatasync when HEARTH_BROKER_FSYNC=always), so nothing a consumer saw or a
 * producer was acknowledged for is lost by a crash.
 *
 * Recovery: index entries are trusted only while their checksum, position and offsets are
 * consistent with the log file; the log after the last good entry is re-scanned batch by batch
 * (framing and CRC), and a torn tail is truncated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@hearth/runtime';
import { crc32c } from '../protocol/crc32c';
import { ErrorCode, KafkaError } from '../protocol/error-codes';
import {
  assignBaseOffset, BATCH_HEADER_BYTES, crcMatches, LOG_OVERHEAD, decodeRecords, readBatchHeader, type BatchHeader,
} from '../protocol/record-batch';
import { BatchIndex } from './batch-index';
import type { GroupCommit } from './group-commit';
import { ProducerStateTable } from './producer-state';
import { TailCache } from './tail-cache';

const writev = promisify(fs.writev);
const fdatasync = promisify(fs.fdatasync);
const read = promisify(fs.read);

const INDEX_ENTRY_BYTES = 48;
const RECOVERY_WINDOW_BYTES = 16 * 1024 * 1024;
/** Keeps relative offsets and positions within the index's 32-bit columns. */
const MAX_SEGMENT_OFFSETS = 2 ** 31;
/** Files of deleted segments stay open this long, so reads already under way finish. */
const CLOSE_DELAY_MS = 30_000;

export interface LogOptions {
  segmentBytes: number;
  fsync: boolean;
  /** Bytes of recent batches kept in memory for live consumers (HEARTH_BROKER_TAIL_CACHE_BYTES). */
  tailCacheBytes: number;
}

class Segment {
  readonly index = new BatchIndex();
  /** Bytes assigned to batches, written or not. */
  size: number;
  /** Bytes written to the log file. */
  writtenSize: number;
  indexBytes: number;

  constructor(
    readonly base: number,
    readonly logPath: string,
    readonly indexPath: string,
    readonly logFd: number,
    readonly indexFd: number,
    size: number,
    indexBytes: number,
  ) {
    this.size = size;
    this.writtenSize = size;
    this.indexBytes = indexBytes;
  }

  get lastOffset(): number {
    return this.index.count === 0 ? this.base - 1 : this.base + this.index.relLastAt(this.index.count - 1);
  }
  get maxTimestamp(): number {
    return this.index.count === 0 ? -1 : this.index.maxTimestampSoFar(this.index.count - 1);
  }

  close(): void {
    fs.close(this.logFd, () => undefined);
    fs.close(this.indexFd, () => undefined);
  }
}

interface PendingWrite {
  segment: Segment;
  batch: Buffer;
  indexEntry: Buffer;
  baseOffset: number;
  lastOffset: number;
}
interface DurableWaiter {
  lastOffset: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

function segmentName(base: number): string {
  return String(base).padStart(20, '0');
}

function encodeIndexEntry(relBase: number, header: BatchHeader, position: number): Buffer {
  const b = Buffer.alloc(INDEX_ENTRY_BYTES);
  b.writeUInt32LE(relBase, 0);
  b.writeUInt32LE(header.lastOffsetDelta, 4);
  b.writeUInt32LE(position, 8);
  b.writeUInt32LE(header.size, 12);
  b.writeDoubleLE(header.maxTimestamp, 16);
  b.writeDoubleLE(header.producerId, 24);
  b.writeInt32LE(header.baseSequence, 32);
  b.writeInt16LE(header.producerEpoch, 36);
  b.writeUInt32LE(crc32c(b, 0, 40), 40);
  return b;
}

export class PartitionLog {
  private segments: Segment[] = [];
  private pending: PendingWrite[] = [];
  private waiters: DurableWaiter[] = [];
  private readonly listeners = new Set<() => void>();
  private failed: Error | null = null;
  private closed = false;
  private readonly tail: TailCache;
  readonly producers = new ProducerStateTable();
  /** Next offset to assign (log end offset, including appends not yet durable). */
  private nextOffset = 0;
  /** Offsets below this are durable and readable. */
  highWatermark = 0;

  private constructor(
    readonly dir: string,
    private readonly options: LogOptions,
    private readonly groupCommit: GroupCommit,
    private readonly log: Logger,
  ) {
    this.tail = new TailCache(options.tailCacheBytes);
  }

  get logStartOffset(): number {
    return this.segments[0]!.base;
  }
  get sizeBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.size, 0);
  }

  // ---------------------------------------------------------------- recovery

  static open(dir: string, options: LogOptions, groupCommit: GroupCommit, log: Logger): PartitionLog {
    fs.mkdirSync(dir, { recursive: true });
    const plog = new PartitionLog(dir, options, groupCommit, log);
    const bases = fs
      .readdirSync(dir)
      .filter((f) => /^\d{20}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((a, b) => a - b);
    if (bases.length === 0) bases.push(0);
    for (let k = 0; k < bases.length; k++) {
      const { segment, truncated } = plog.recoverSegment(bases[k]!);
      plog.segments.push(segment);
      if (truncated && k < bases.length - 1) {
        // A torn segment before the last one: everything after it is no longer contiguous.
        for (const later of bases.slice(k + 1)) {
          for (const ext of ['.log', '.index']) fs.rmSync(path.join(dir, segmentName(later) + ext), { force: true });
          log.warn({ dir, segment: later }, 'removed segment after a torn one during recovery');
        }
        break;
      }
    }
    const last = plog.segments[plog.segments.length - 1]!;
    plog.nextOffset = last.lastOffset + 1;
    plog.highWatermark = plog.nextOffset;
    return plog;
  }

  private recoverSegment(base: number): { segment: Segment; truncated: boolean } {
    const logPath = path.join(this.dir, segmentName(base) + '.log');
    const indexPath = path.join(this.dir, segmentName(base) + '.index');
    const logFd = fs.openSync(logPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const indexFd = fs.openSync(indexPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const fileSize = fs.fstatSync(logFd).size;
    const indexBuf = fs.readFileSync(indexPath);
    const segment = new Segment(base, logPath, indexPath, logFd, indexFd, 0, 0);
    let position = 0;
    let nextRel = 0;

    // 1. Trust index entries while they are intact and agree with the log file.
    for (let at = 0; at + INDEX_ENTRY_BYTES <= indexBuf.length; at += INDEX_ENTRY_BYTES) {
      if (crc32c(indexBuf, at, at + 40) !== indexBuf.readUInt32LE(at + 40)) break;
      const relBase = indexBuf.readUInt32LE(at);
      const lastDelta = indexBuf.readUInt32LE(at + 4);
      const pos = indexBuf.readUInt32LE(at + 8);
      const size = indexBuf.readUInt32LE(at + 12);
      if (relBase !== nextRel || pos !== position || pos + size > fileSize) break;
      const maxTimestamp = indexBuf.readDoubleLE(at + 16);
      segment.index.push({ relBase, lastDelta, position: pos, size, maxTimestamp });
      this.producers.record(
        {
          producerId: indexBuf.readDoubleLE(at + 24),
          baseSequence: indexBuf.readInt32LE(at + 32),
          producerEpoch: indexBuf.readInt16LE(at + 36),
          lastOffsetDelta: lastDelta,
        },
        base + relBase,
      );
      position = pos + size;
      nextRel = relBase + lastDelta + 1;
    }
    const trustedEntries = segment.index.count;

    // 2. Re-scan the log after the last trusted entry; stop at the first torn or corrupt batch.
    const rebuilt: Buffer[] = [];
    let window = Buffer.alloc(0);
    let windowStart = 0;
    const view = (pos: number, n: number): Buffer | null => {
      if (pos + n > fileSize) return null;
      if (pos < windowStart || pos + n > windowStart + window.length) {
        window = Buffer.allocUnsafe(Math.min(Math.max(n, RECOVERY_WINDOW_BYTES), fileSize - pos));
        window = window.subarray(0, fs.readSync(logFd, window, 0, window.length, pos));
        windowStart = pos;
        if (window.length < n) return null;
      }
      return window.subarray(pos - windowStart, pos - windowStart + n);
    };
    while (position < fileSize) {
      const head = view(position, LOG_OVERHEAD);
      if (head === null) break;
      const size = LOG_OVERHEAD + head.readInt32BE(8);
      if (size < BATCH_HEADER_BYTES) break;
      const bytes = view(position, size);
      if (bytes === null) break;
      const header = readBatchHeader(bytes, 0);
      if (header === null || header.size !== size) break;
      if (!this.acceptScanned(bytes, header, segment, position, nextRel, rebuilt)) break;
      position += size;
      nextRel += header.lastOffsetDelta + 1;
    }
    let truncated = false;
    if (position < fileSize) {
      this.log.warn({ dir: this.dir, segment: base, validBytes: position, fileBytes: fileSize }, 'truncating torn log tail');
      fs.ftruncateSync(logFd, position);
      truncated = true;
    }
    if (rebuilt.length > 0 || indexBuf.length !== trustedEntries * INDEX_ENTRY_BYTES) {
      fs.ftruncateSync(indexFd, trustedEntries * INDEX_ENTRY_BYTES);
      if (rebuilt.length > 0) fs.writeSync(indexFd, Buffer.concat(rebuilt), 0, undefined, trustedEntries * INDEX_ENTRY_BYTES);
    }
    segment.size = position;
    segment.writtenSize = position;
    segment.indexBytes = segment.index.count * INDEX_ENTRY_BYTES;
    return { segment, truncated };
  }

  private acceptScanned(
    buf: Buffer, header: BatchHeader, segment: Segment, position: number, nextRel: number, rebuilt: Buffer[],
  ): boolean {
    if (!crcMatches(buf, header)) return false;
    if (Number(buf.readBigInt64BE(header.start)) !== segment.base + nextRel) return false;
    segment.index.push({
      relBase: nextRel, lastDelta: header.lastOffsetDelta, position, size: header.size, maxTimestamp: header.maxTimestamp,
    });
    this.producers.record(header, segment.base + nextRel);
    rebuilt.push(encodeIndexEntry(nextRel, header, position));
    return true;
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends one validated batch (the buffer is stamped in place and kept until written).
   * Runs synchronously up to the returned promise, so appends keep request order.
   */
  append(batch: Buffer, header: BatchHeader): { baseOffset: number; durable: Promise<void> } {
    if (this.failed || this.closed) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.dir} is not writable`);
    const duplicate = this.producers.check(header);
    if (duplicate) return { baseOffset: duplicate.baseOffset, durable: this.whenDurable(duplicate.lastOffset) };

    let segment = this.segments[this.segments.length - 1]!;
    const base = this.nextOffset;
    if (
      (segment.size > 0 && segment.size + header.size > this.options.segmentBytes) ||
      base + header.lastOffsetDelta - segment.base >= MAX_SEGMENT_OFFSETS
    ) {
      segment = this.roll(base);
    }
    assignBaseOffset(batch, 0, base);
    const relBase = base - segment.base;
    const position = segment.size;
    segment.index.push({ relBase, lastDelta: header.lastOffsetDelta, position, size: header.size, maxTimestamp: header.maxTimestamp });
    segment.size += header.size;
    this.nextOffset = base + header.lastOffsetDelta + 1;
    this.producers.record(header, base);
    this.pending.push({ segment, batch, indexEntry: encodeIndexEntry(relBase, header, position), baseOffset: base, lastOffset: this.nextOffset - 1 });
    this.groupCommit.mark(this);
    return { baseOffset: base, durable: this.whenDurable(this.nextOffset - 1) };
  }

  private roll(base: number): Segment {
    const logPath = path.join(this.dir, segmentName(base) + '.log');
    const indexPath = path.join(this.dir, segmentName(base) + '.index');
    const flags = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC;
    const segment = new Segment(base, logPath, indexPath, fs.openSync(logPath, flags, 0o644), fs.openSync(indexPath, flags, 0o644), 0, 0);
    this.segments.push(segment);
    return segment;
  }

  private whenDurable(lastOffset: number): Promise<void> {
    if (lastOffset < this.highWatermark) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ lastOffset, resolve, reject }));
  }

  /**
   * Writes (and fsyncs) everything appended so far; called by the group commit. Producers and
   * consumers are told as soon as the log is durable; the index is written after that, off their
   * path (recovery rebuilds whatever of it is missing).
   */
  async flush(): Promise<void> {
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    if (this.failed) return this.fail(this.failed); // positions after a failed write are unknown
    const runs: { segment: Segment; items: PendingWrite[] }[] = [];
    for (const item of items) {
      const last = runs[runs.length - 1];
      if (last?.segment === item.segment) last.items.push(item);
      else runs.push({ segment: item.segment, items: [item] });
    }
    try {
      for (const run of runs) {
        const bytes = run.items.reduce((n, p) => n + p.batch.length, 0);
        const { bytesWritten } = await writev(run.segment.logFd, run.items.map((p) => p.batch), run.segment.writtenSize);
        if (bytesWritten !== bytes) throw new Error(`short write: ${bytesWritten} of ${bytes} bytes`);
        run.segment.writtenSize += bytes;
      }
      if (this.options.fsync) await Promise.all(runs.map((r) => fdatasync(r.segment.logFd)));
    } catch (error) {
      return this.fail(error as Error);
    }
    this.highWatermark = items[items.length - 1]!.lastOffset + 1;
    for (const item of items) this.tail.add(item.baseOffset, item.lastOffset, item.batch);
    const ready = this.waiters.filter((w) => w.lastOffset < this.highWatermark);
    this.waiters = this.waiters.filter((w) => w.lastOffset >= this.highWatermark);
    for (const w of ready) w.resolve();
    for (const listener of this.listeners) listener();
    try {
      for (const run of runs) {
        await writev(run.segment.indexFd, run.items.map((p) => p.indexEntry), run.segment.indexBytes);
        run.segment.indexBytes += run.items.length * INDEX_ENTRY_BYTES;
      }
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private fail(error: Error): void {
    this.failed = error;
    this.log.error({ err: error, dir: this.dir }, 'log write failed; partition is read-only until restart');
    const failure = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `write failed: ${error.message}`);
    for (const w of this.waiters) w.reject(failure);
    this.waiters = [];
  }

  /** Called after each advance of the high watermark (fetch long-polls wait on it). */
  onDurable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- read

  private segmentFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.base <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Whole stored batches from the one containing `offset`, up to maxBytes (at least one batch,
   * as Kafka does so a large batch never blocks a consumer), none at the high watermark.
   */
  async read(offset: number, maxBytes: number): Promise<Buffer[]> {
    if (offset < this.logStartOffset || offset > this.highWatermark) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${offset} outside [${this.logStartOffset}, ${this.highWatermark}]`);
    }
    if (offset === this.highWatermark) return [];
    const cached = this.tail.read(offset, maxBytes);
    if (cached) return cached;
    for (let s = this.segmentFor(offset); s < this.segments.length; s++) {
      const segment = this.segments[s]!;
      const index = segment.index;
      let i = index.findByOffset(offset - segment.base);
      if (i >= index.count) continue;
      const start = index.positionAt(i);
      let end = start;
      for (; i < index.count && segment.base + index.relBaseAt(i) < this.highWatermark; i++) {
        const next = index.positionAt(i) + index.sizeAt(i);
        if (end > start && next - start > maxBytes) break;
        end = next;
      }
      if (end === start) return [];
      const buf = Buffer.allocUnsafe(end - start);
      const { bytesRead } = await read(segment.logFd, buf, 0, buf.length, start);
      return [bytesRead === buf.length ? buf : buf.subarray(0, bytesRead)];
    }
    return [];
  }

  /** ListOffsets by time: the first record with a timestamp >= ts, or null if none. */
  async offsetForTimestamp(ts: number): Promise<{ offset: number; timestamp: number } | null> {
    for (const segment of this.segments) {
      const index = segment.index;
      const i = index.findByTimestamp(ts);
      if (i >= index.count || segment.base + index.relBaseAt(i) >= this.highWatermark) continue;
      const buf = Buffer.allocUnsafe(index.sizeAt(i));
      await read(segment.logFd, buf, 0, buf.length, index.positionAt(i));
      const header = readBatchHeader(buf, 0);
      if (header === null) return null;
      const records = decodeRecords(buf, header);
      const base = segment.base + index.relBaseAt(i);
      if (records === null) return { offset: Math.max(base, this.logStartOffset), timestamp: header.maxTimestamp };
      const hit = records.find((r) => r.timestamp >= ts && r.offset >= this.logStartOffset);
      if (hit) return { offset: hit.offset, timestamp: hit.timestamp };
    }
    return null;
  }

  // ---------------------------------------------------------------- retention and shutdown

  /** Deletes whole, fully written segments older than retentionMs or beyond retentionBytes (-1: keep). */
  applyRetention(now: number, retentionMs: number, retentionBytes: number): number {
    let deleted = 0;
    let excess = retentionBytes >= 0 ? this.sizeBytes - retentionBytes : -1;
    while (this.segments.length > 1) {
      const first = this.segments[0]!;
      if (first.writtenSize !== first.size) break;
      const byTime = retentionMs >= 0 && first.maxTimestamp < now - retentionMs;
      const bySize = retentionBytes >= 0 && excess >= first.size;
      if (!byTime && !bySize) break;
      this.segments.shift();
      excess -= first.size;
      deleted++;
      fs.rm(first.logPath, { force: true }, () => undefined);
      fs.rm(first.indexPath, { force: true }, () => undefined);
      setTimeout(() => first.close(), CLOSE_DELAY_MS).unref();
      this.log.info({ dir: this.dir, segment: first.base, byTime, bySize }, 'retention deleted segment');
    }
    return deleted;
  }

  /** Flushes what is pending and closes the files; later appends fail. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const segment of this.segments) setTimeout(() => segment.close(), 0);
  }

  /** Closes without waiting for reads in flight (topic deletion): files go after a delay. */
  closeLater(): void {
    this.closed = true;
    this.tail.clear();
    for (const segment of this.segments) setTimeout(() => segment.close(), CLOSE_DELAY_MS).unref();
  }
}
