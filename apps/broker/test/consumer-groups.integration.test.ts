/**
 * A consumer group of three kafkajs members, each in its own process: they rebalance as members
 * join, and again when one is killed (kill -9, found dead by its session timeout). Every record
 * is consumed and committed exactly once across the group.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { startBroker, type RunningBroker } from '@hearth/testing';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const TOPIC = 'chat-events';
const GROUP = 'archivers';
const PARTITIONS = 6;

interface Committed {
  member: string;
  partition: number;
  offset: number;
  value: string;
}

describe('consumer group of three members', () => {
  let broker: RunningBroker;
  let admin: Admin;
  let producer: Producer;
  const members = new Map<string, ChildProcess>();
  const committed: Committed[] = [];
  const assignments = new Map<string, number[]>();
  const progress: (() => void)[] = [];

  before(async () => {
    broker = await startBroker();
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    producer = kafka.producer({ idempotent: true });
    await producer.connect();
  });
  after(async () => {
    for (const child of members.values()) child.kill('SIGKILL');
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await broker?.dispose();
  });

  function startMember(name: string): void {
    const script = path.join(__dirname, 'support/group-member.js');
    const child = spawn(process.execPath, [script, broker.brokers[0]!, TOPIC, GROUP, name], { stdio: ['ignore', 'pipe', 'inherit'] });
    process.on('exit', () => child.kill('SIGKILL'));
    members.set(name, child);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string; member: string; partitions?: number[] } & Committed;
      if (event.event === 'committed') committed.push(event);
      if (event.event === 'assigned') assignments.set(event.member, event.partitions!);
      for (const check of progress) check();
    });
  }

  function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        progress.splice(progress.indexOf(check), 1);
        resolve();
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; committed ${committed.length}`)), timeoutMs);
      progress.push(check);
      check();
    });
  }

  async function produce(prefix: string, count: number): Promise<string[]> {
    const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    await producer.send({ topic: TOPIC, acks: -1, messages: values.map((value, i) => ({ key: `room-${i}`, value })) });
    return values;
  }

  it('rebalances on join and on a killed member, and commits every record exactly once', async () => {
    const sent: string[] = [];
    startMember('alice');
    sent.push(...(await produce('first', 60)));
    await until('alice to consume the first records', () => committed.length >= 60);

    startMember('bob');
    startMember('carol');
    sent.push(...(await produce('second', 60)));
    await until('three members sharing all partitions', () =>
      ['alice', 'bob', 'carol'].every((m) => (assignments.get(m)?.length ?? 0) > 0) &&
      [...assignments.values()].reduce((n, p) => n + p.length, 0) === PARTITIONS,
    );
    await until('all records so far committed', () => new Set(committed.map((c) => c.value)).size === sent.length);
    const described = await admin.describeGroups([GROUP]);
    assert.equal(described.groups[0]!.members.length, 3);
    assert.equal(described.groups[0]!.state, 'Stable');

    // carol crashes: her partitions must move to alice and bob once her session expires.
    const carolsPartitions = assignments.get('carol')!;
    members.get('carol')!.kill('SIGKILL');
    members.delete('carol');
    sent.push(...(await produce('third', 60)));
    await until('every record committed after the crash', () => new Set(committed.map((c) => c.value)).size === sent.length);
    const afterCrash = [...(assignments.get('alice') ?? []), ...(assignments.get('bob') ?? [])];
    for (const p of carolsPartitions) assert.ok(afterCrash.includes(p), `partition ${p} taken over`);

    const values = committed.map((c) => c.value);
    assert.equal(values.length, new Set(values).size, 'no record committed twice');
    assert.deepEqual(new Set(values), new Set(sent));
    const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    const ends = await admin.fetchTopicOffsets(TOPIC);
    for (const p of offsets[0]!.partitions) {
      assert.equal(p.offset, ends.find((e) => e.partition === p.partition)!.high, `partition ${p.partition} fully committed`);
    }
    const final = await admin.describeGroups([GROUP]);
    assert.equal(final.groups[0]!.members.length, 2);
    assert.ok(
      broker.logs().some((l) => l.includes('"reason":"session timeout expired"') && l.includes('carol')),
      'carol was removed by her session timeout',
    );
  });
});
