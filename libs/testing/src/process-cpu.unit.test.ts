import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuByPart, postgresDatabaseOf, snapshotCpu } from './process-cpu';

test('CPU a process spends between two snapshots is counted to its part, and other processes are left out', () => {
  const before = snapshotCpu();
  assert.ok(before.get(process.pid)?.command.includes('node'), 'this process is in the snapshot with its command line');
  const busyUntil = Date.now() + 300;
  while (Date.now() < busyUntil) Math.sqrt(Math.random());
  const parts = cpuByPart(before, snapshotCpu(), (pid) => (pid === process.pid ? 'this test' : undefined));
  assert.deepEqual([...parts.keys()], ['this test']);
  assert.ok(parts.get('this test')! >= 0.15, `300 ms of busy work counted as ${parts.get('this test')} s`);
});

test('a PostgreSQL backend is known by its database; the server\'s own processes are not', () => {
  assert.equal(postgresDatabaseOf('postgres: hearth archive_25051_1 127.0.0.1(46398) INSERT'), 'archive_25051_1');
  assert.equal(postgresDatabaseOf('postgres: hearth gateway_2_2 [local] idle'), 'gateway_2_2');
  assert.equal(postgresDatabaseOf('postgres: logical replication launcher'), undefined);
  assert.equal(postgresDatabaseOf('postgres: checkpointer'), undefined);
  assert.equal(postgresDatabaseOf('postgres: walwriter'), undefined);
});
