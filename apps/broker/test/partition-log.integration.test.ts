/**
 * Segment files on disk: recovery after a lost or damaged index, a torn log tail, and segment
 * rolls, using the partition log directly on a temporary directory.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@hearth/runtime';
import { encodeBatch, parseProducedBatches, readBatchHeader } from '../src/protocol/record-batch';
import { GroupCommit } from '../src/storage/group-commit';
import { PartitionLog, type LogOptions } from '../src/storage/partition-log';

const log = createLogger('test', 'silent');
const options: LogOptions = { segmentBytes: 4096, fsync: true, tailCacheBytes: 0 };

async function appendValues(plog: PartitionLog, values: string[]): Promise<void> {
  const durable: Promise<void>[] = [];
  for (const v of values) {
    const b = encodeBatch([{ value: Buffer.from(v) }, { value: Buffer.from(v + '+') }]);
    durable.push(plog.append(b, parseProducedBatches(b)[0]!).durable);
  }
  await Promise.all(durable);
}

/** Every record value in the log, read batch by batch from the start. */
async function readValues(plog: PartitionLog): Promise<{ offsets: number[]; count: number }> {
  const offsets: number[] = [];
  let next = plog.logStartOffset;
  while (next < plog.highWatermark) {
    const chunks = await plog.read(next, 1 << 20);
    const buf = Buffer.concat(chunks);
    for (let at = 0; at < buf.length; ) {
      const header = readBatchHeader(buf, at)!;
      const base = Number(buf.readBigInt64BE(at));
      for (let i = 0; i <= header.lastOffsetDelta; i++) if (base + i >= next) offsets.push(base + i);
      next = base + header.lastOffsetDelta + 1;
      at += header.size;
    }
  }
  return { offsets, count: offsets.length };
}

describe('partition log recovery', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-plog-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function filled(dir: string, batches: number): Promise<void> {
    const plog = PartitionLog.open(dir, options, new GroupCommit(), log);
    await appendValues(plog, Array.from({ length: batches }, (_, i) => `value-${i}-${'x'.repeat(200)}`));
    await plog.close();
  }
  const files = (dir: string, ext: string) => fs.readdirSync(dir).filter((f) => f.endsWith(ext)).sort();

  it('rolls segments by size and reopens with every offset readable', async () => {
    const dir = fresh();
    await filled(dir, 60);
    assert.ok(files(dir, '.log').length > 3, 'several segments');
    const plog = PartitionLog.open(dir, options, new GroupCommit(), log);
    assert.equal(plog.highWatermark, 120);
    assert.deepEqual((await readValues(plog)).offsets, Array.from({ length: 120 }, (_, i) => i));
    await plog.close();
  });

  it('rebuilds lost or damaged index files from the log', async () => {
    const dir = fresh();
    await filled(dir, 40);
    const indexes = files(dir, '.index');
    fs.rmSync(path.join(dir, indexes[0]!));
    const damaged = path.join(dir, indexes[indexes.length - 1]!);
    const bytes = fs.readFileSync(damaged);
    if (bytes.length > 0) bytes[bytes.length - 10]! ^= 0xff;
    fs.writeFileSync(damaged, bytes);
    const plog = PartitionLog.open(dir, options, new GroupCommit(), log);
    assert.equal(plog.highWatermark, 80);
    assert.equal((await readValues(plog)).count, 80);
    await plog.close();
    assert.ok(fs.statSync(path.join(dir, indexes[0]!)).size > 0, 'index written again');
  });

  it('truncates a torn last batch and goes on appending from the last whole one', async () => {
    const dir = fresh();
    await filled(dir, 30);
    const last = path.join(dir, files(dir, '.log').pop()!);
    const size = fs.statSync(last).size;
    fs.truncateSync(last, size - 7); // the last batch loses its end
    let plog = PartitionLog.open(dir, options, new GroupCommit(), log);
    assert.equal(plog.highWatermark, 58, 'the torn batch (2 records) is gone');
    await appendValues(plog, ['after-the-crash']);
    assert.equal(plog.highWatermark, 60);
    await plog.close();
    plog = PartitionLog.open(dir, options, new GroupCommit(), log);
    assert.deepEqual((await readValues(plog)).offsets, Array.from({ length: 60 }, (_, i) => i));
    await plog.close();
  });

  it('drops segments after a torn one in the middle', async () => {
    const dir = fresh();
    await filled(dir, 60);
    const logs = files(dir, '.log');
    const middle = path.join(dir, logs[1]!);
    fs.truncateSync(middle, fs.statSync(middle).size - 3);
    const plog = PartitionLog.open(dir, options, new GroupCommit(), log);
    assert.equal(files(dir, '.log').length, 2, 'later segments removed');
    const { offsets } = await readValues(plog);
    assert.deepEqual(offsets, Array.from({ length: plog.highWatermark }, (_, i) => i), 'contiguous up to the tear');
    await plog.close();
  });
});
