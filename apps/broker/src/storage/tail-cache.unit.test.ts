import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TailCache } from './tail-cache';

const batch = (bytes: number, fill: number) => Buffer.alloc(bytes, fill);

describe('tail cache', () => {
  it('serves the batches from the one holding an offset, up to max bytes but at least one', () => {
    const cache = new TailCache(10_000);
    cache.add(0, 9, batch(100, 1));
    cache.add(10, 19, batch(100, 2));
    cache.add(20, 29, batch(100, 3));
    assert.deepEqual(cache.read(15, 1000)!.map((b) => b[0]), [2, 3]);
    assert.deepEqual(cache.read(0, 150)!.map((b) => b[0]), [1]);
    assert.deepEqual(cache.read(0, 10)!.map((b) => b[0]), [1], 'one batch even over max bytes');
    assert.deepEqual(cache.read(30, 1000), [], 'nothing past the end');
  });

  it('forgets the oldest batches beyond its size and sends older offsets to disk', () => {
    const cache = new TailCache(250);
    for (let i = 0; i < 5; i++) cache.add(i * 10, i * 10 + 9, batch(100, i));
    assert.equal(cache.read(0, 1000), null);
    assert.deepEqual(cache.read(35, 1000)!.map((b) => b[0]), [3, 4]);
    assert.equal(new TailCache(0).read(0, 10), null, 'a cache of size 0 keeps nothing');
  });
});
