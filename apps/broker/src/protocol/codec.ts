/**
 * Primitive types of the Kafka wire protocol, big-endian.
 * https://kafka.apache.org/protocol#protocol_types
 *
 * The reader never reads past its frame: any short or inconsistent field throws a
 * {@link DecodeError}, which the connection layer turns into a closed connection and a log line.
 */

/** A request that does not decode: truncated, a negative length where none is allowed, and so on. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export class Reader {
  private offset: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.offset = start;
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): number {
    if (n < 0 || this.offset + n > this.end) {
      throw new DecodeError(`truncated: need ${n} bytes at ${this.offset}, have ${this.end - this.offset}`);
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  /** INT64 as a JS number: offsets, timestamps and producer ids stay far below 2^53. */
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.need(8)));
  }
  boolean(): boolean {
    return this.int8() !== 0;
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw new DecodeError('null where a STRING is required');
    return s;
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const at = this.need(length);
    return this.buf.toString('utf8', at, at + length);
  }

  /** BYTES / NULLABLE_BYTES as a view into the frame (no copy). */
  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    const at = this.need(length);
    return this.buf.subarray(at, at + length);
  }
  bytes(): Buffer {
    const b = this.nullableBytes();
    if (b === null) throw new DecodeError('null where BYTES are required');
    return b;
  }

  /** ARRAY; a null array is returned as null. The count is checked against the bytes left. */
  nullableArray<T>(item: (r: Reader) => T): T[] | null {
    const count = this.int32();
    if (count < 0) return null;
    if (count > this.remaining) throw new DecodeError(`array of ${count} items in ${this.remaining} bytes`);
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = item(this);
    return out;
  }
  array<T>(item: (r: Reader) => T): T[] {
    return this.nullableArray(item) ?? [];
  }

  // Flexible versions (KIP-482): unsigned varints, compact strings/arrays, tagged fields.
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buf.readUInt8(this.need(1));
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
      if (shift > 28) throw new DecodeError('varint too long');
    }
  }
  /** Signed zig-zag VARINT, as used inside records. */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  /** Signed zig-zag VARLONG, as used inside records (timestamps, offsets deltas). */
  varlong(): number {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.buf.readUInt8(this.need(1));
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new DecodeError('varlong too long');
    }
    return Number((value >> 1n) ^ -(value & 1n));
  }
  compactNullableString(): string | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    const at = this.need(length);
    return this.buf.toString('utf8', at, at + length);
  }
  compactString(): string {
    const s = this.compactNullableString();
    if (s === null) throw new DecodeError('null where a COMPACT_STRING is required');
    return s;
  }
  compactArray<T>(item: (r: Reader) => T): T[] {
    const count = this.uvarint() - 1;
    if (count < 0) return [];
    if (count > this.remaining) throw new DecodeError(`array of ${count} items in ${this.remaining} bytes`);
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = item(this);
    return out;
  }
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.need(this.uvarint());
    }
  }
  skip(n: number): void {
    this.need(n);
  }
}

const SCRATCH_SIZE = 4096;

/**
 * Builds a response as a list of chunks, so stored record batches are sent as they are on disk
 * (no copy into a response buffer).
 */
export class Writer {
  private readonly chunks: Buffer[] = [];
  private scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  private used = 0;
  private flushedLength = 0;

  get length(): number {
    return this.flushedLength + this.used;
  }

  private room(n: number): number {
    if (this.used + n > this.scratch.length) {
      this.cut();
      if (n > this.scratch.length) this.scratch = Buffer.allocUnsafe(n);
    }
    const at = this.used;
    this.used += n;
    return at;
  }

  private cut(): void {
    if (this.used === 0) return;
    this.chunks.push(this.scratch.subarray(0, this.used));
    this.flushedLength += this.used;
    this.scratch = this.scratch.subarray(this.used);
    if (this.scratch.length < 64) this.scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
    this.used = 0;
  }

  int8(v: number): this {
    this.scratch.writeInt8(v, this.room(1));
    return this;
  }
  int16(v: number): this {
    this.scratch.writeInt16BE(v, this.room(2));
    return this;
  }
  int32(v: number): this {
    this.scratch.writeInt32BE(v, this.room(4));
    return this;
  }
  int64(v: number): this {
    this.scratch.writeBigInt64BE(BigInt(v), this.room(8));
    return this;
  }
  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1);
    const length = Buffer.byteLength(s);
    this.int16(length);
    this.scratch.write(s, this.room(length), 'utf8');
    return this;
  }
  string(s: string): this {
    return this.nullableString(s);
  }
  /** NULLABLE_BYTES; the buffer is referenced, not copied. */
  nullableBytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    return this.raw(b);
  }
  bytes(b: Buffer): this {
    return this.nullableBytes(b);
  }
  raw(b: Buffer): this {
    if (b.length <= 256) {
      b.copy(this.scratch, this.room(b.length));
      return this;
    }
    this.cut();
    this.chunks.push(b);
    this.flushedLength += b.length;
    return this;
  }
  array<T>(items: readonly T[] | null, item: (w: Writer, v: T, index: number) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    items.forEach((v, i) => item(this, v, i));
    return this;
  }
  uvarint(v: number): this {
    while (v >= 0x80) {
      this.scratch.writeUInt8((v & 0x7f) | 0x80, this.room(1));
      v = Math.floor(v / 128);
    }
    this.scratch.writeUInt8(v, this.room(1));
    return this;
  }
  compactNullableString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const length = Buffer.byteLength(s);
    this.uvarint(length + 1);
    this.scratch.write(s, this.room(length), 'utf8');
    return this;
  }
  compactArray<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.uvarint(items.length + 1);
    for (const v of items) item(this, v);
    return this;
  }
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** The finished chunks; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.cut();
    return this.chunks;
  }
}
