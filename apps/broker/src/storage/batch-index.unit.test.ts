import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BatchIndex } from './batch-index';

describe('batch index', () => {
  it('finds the batch holding an offset and the first batch at or after a time', () => {
    const index = new BatchIndex();
    // 200 batches of 10 records, 100 bytes each; timestamps not monotonic.
    for (let i = 0; i < 200; i++) {
      index.push({ relBase: i * 10, lastDelta: 9, position: i * 100, size: 100, maxTimestamp: i === 50 ? 99_999 : 1000 + i });
    }
    assert.equal(index.count, 200);
    assert.equal(index.findByOffset(0), 0);
    assert.equal(index.findByOffset(9), 0);
    assert.equal(index.findByOffset(10), 1);
    assert.equal(index.findByOffset(1995), 199);
    assert.equal(index.findByOffset(2000), 200);
    assert.equal(index.findByTimestamp(1010), 10);
    assert.equal(index.findByTimestamp(5000), 50, 'the running maximum keeps the search monotonic');
    index.truncate(100);
    assert.equal(index.findByOffset(1500), 100);
  });
});
