import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError, Reader, Writer } from './codec';

const bytesOf = (w: Writer) => Buffer.concat(w.finish());

describe('protocol codec', () => {
  it('round-trips the fixed-size and string types', () => {
    const big = Buffer.alloc(1000, 7);
    const buf = bytesOf(
      new Writer().int8(-3).int16(-300).int32(-70000).int64(2 ** 40 + 5).boolean(true)
        .string('héllo').nullableString(null).bytes(big).nullableBytes(null)
        .array([1, 2, 3], (w, v) => w.int32(v)).array(null, () => undefined),
    );
    const r = new Reader(buf);
    assert.equal(r.int8(), -3);
    assert.equal(r.int16(), -300);
    assert.equal(r.int32(), -70000);
    assert.equal(r.int64(), 2 ** 40 + 5);
    assert.equal(r.boolean(), true);
    assert.equal(r.string(), 'héllo');
    assert.equal(r.nullableString(), null);
    assert.deepEqual(r.bytes(), big);
    assert.equal(r.nullableBytes(), null);
    assert.deepEqual(r.array((r) => r.int32()), [1, 2, 3]);
    assert.equal(r.nullableArray((r) => r.int32()), null);
    assert.equal(r.remaining, 0);
  });

  it('round-trips the flexible (compact) types and skips tagged fields', () => {
    const buf = bytesOf(
      new Writer().uvarint(300).compactNullableString('kcat').compactNullableString(null)
        .compactArray(['a', 'b'], (w, s) => w.compactNullableString(s)).uvarint(1).uvarint(5).uvarint(2).int16(9).int8(1),
    );
    const r = new Reader(buf);
    assert.equal(r.uvarint(), 300);
    assert.equal(r.compactString(), 'kcat');
    assert.equal(r.compactNullableString(), null);
    assert.deepEqual(r.compactArray((r) => r.compactString()), ['a', 'b']);
    r.skipTaggedFields(); // one field, tag 5, two bytes
    assert.equal(r.int8(), 1);
  });

  it('decodes zig-zag varints and varlongs as used in records', () => {
    const r = new Reader(Buffer.from([0x01, 0x02, 0x03, 0xac, 0x02, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    assert.equal(r.varint(), -1);
    assert.equal(r.varint(), 1);
    assert.equal(r.varint(), -2);
    assert.equal(r.varint(), 150);
    assert.equal(r.varlong(), 2 ** 48 - 1);
  });

  it('throws DecodeError, never reads past the frame, on truncated or inconsistent input', () => {
    assert.throws(() => new Reader(Buffer.from([0, 0, 0])).int32(), DecodeError);
    assert.throws(() => new Reader(Buffer.from([0, 5, 65])).string(), DecodeError);
    assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).array((r) => r.int8()), DecodeError);
    assert.throws(() => new Reader(Buffer.from([0xff, 0xff])).string(), DecodeError, 'null string where required');
    assert.throws(() => new Reader(Buffer.from([0, 0, 0, 9, 1]), 0, 5).bytes(), DecodeError);
    assert.throws(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).uvarint(), DecodeError);
  });

  it('keeps large byte fields as separate chunks instead of copying them', () => {
    const payload = Buffer.alloc(4096, 1);
    const chunks = new Writer().int32(1).bytes(payload).int16(2).finish();
    assert.ok(chunks.includes(payload));
    assert.equal(Buffer.concat(chunks).length, 4 + 4 + 4096 + 2);
  });
});
