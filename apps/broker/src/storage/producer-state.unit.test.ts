import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../protocol/error-codes';
import { ProducerStateTable } from './producer-state';

const batch = (baseSequence: number, count: number, producerEpoch = 0) => ({
  producerId: 7, producerEpoch, baseSequence, lastOffsetDelta: count - 1,
});
const refusedWith = (code: number) => (error: unknown) => error instanceof KafkaError && error.code === code;

describe('idempotent producer state', () => {
  it('recognises a retried batch among the last five and returns its offsets', () => {
    const table = new ProducerStateTable();
    let offset = 0;
    for (let seq = 0; seq < 30; seq += 5) {
      assert.equal(table.check(batch(seq, 5)), null);
      table.record(batch(seq, 5), offset);
      offset += 5;
    }
    assert.deepEqual(table.check(batch(25, 5)), { baseOffset: 25, lastOffset: 29 });
    assert.deepEqual(table.check(batch(5, 5)), { baseOffset: 5, lastOffset: 9 });
    assert.throws(() => table.check(batch(0, 5)), refusedWith(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), 'older than the last five');
  });

  it('refuses gaps, stale epochs and a new epoch not starting at zero', () => {
    const table = new ProducerStateTable();
    table.record(batch(0, 2, 3), 0);
    assert.throws(() => table.check(batch(5, 1, 3)), refusedWith(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
    assert.throws(() => table.check(batch(2, 1, 2)), refusedWith(ErrorCode.INVALID_PRODUCER_EPOCH));
    assert.throws(() => table.check(batch(2, 1, 4)), refusedWith(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
    assert.equal(table.check(batch(0, 1, 4)), null);
    assert.equal(table.check(batch(2, 1, 3)), null);
  });

  it('accepts any sequence from an unknown producer and wraps sequences at 2^31-1', () => {
    const table = new ProducerStateTable();
    assert.equal(table.check(batch(1000, 1)), null);
    table.record(batch(2147483646, 2), 0); // sequences 2147483646, 2147483647
    assert.equal(table.check(batch(0, 1)), null);
    assert.equal(table.check({ producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 0 }), null);
  });
});
