import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuByPart, cpuReport, partsOf, postgresDatabaseOf, snapshotCpu } from './process-cpu';

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

test('parts are known by pid, PostgreSQL backends by database, the server\'s own processes as shared; the report gives µs per message and cores', () => {
  const partOf = partsOf({ 41: 'gateway' }, { 'postgres://hearth@127.0.0.1:5433/archive_1': 'PostgreSQL for the archive' });
  assert.equal(partOf(41, 'node main.js'), 'gateway');
  assert.equal(partOf(42, 'postgres: hearth archive_1 127.0.0.1(5) idle'), 'PostgreSQL for the archive');
  assert.equal(partOf(43, 'postgres: walwriter'), 'PostgreSQL shared');
  assert.equal(partOf(44, 'sshd'), undefined);
  const [perPart, inAll] = cpuReport(new Map([['broker', 0.5], ['gateway', 2]]), 10_000, 4);
  assert.equal(perPart, 'CPU per message: gateway 200 µs (0.50 cores), broker 50 µs (0.13 cores)');
  assert.match(inAll!, /^CPU in all: 250 µs per message, 0\.63 of this machine's \d+ cores$/);
});
