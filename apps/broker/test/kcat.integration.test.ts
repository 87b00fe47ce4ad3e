/**
 * kcat (librdkafka, a client not written in JS) against the broker: metadata (-L), produce (-P),
 * consume (-C) and a group consumer (-G). kcat is a Debian package that .ci/run installs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { startBroker, type RunningBroker } from '@hearth/testing';

const KCAT_TIMEOUT_MS = 20_000;

function kcat(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: KCAT_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kcat ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input ?? '');
  });
}

interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

const lines = (out: string) => out.split('\n').filter((l) => l.trim() !== '');

describe('kcat against the broker', () => {
  let broker: RunningBroker;
  let admin: Admin;
  let bootstrap: string;

  before(async () => {
    broker = await startBroker();
    bootstrap = broker.brokers[0]!;
    admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'presence', numPartitions: 3 }] });
  });
  after(async () => {
    await admin?.disconnect().catch(() => undefined);
    await broker?.dispose();
  });

  it('-L lists the broker and the topic with its partitions', async () => {
    const meta = JSON.parse(await kcat(['-b', bootstrap, '-L', '-J'])) as {
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    assert.deepEqual(meta.brokers.map((b) => b.name), [bootstrap]);
    const presence = meta.topics.find((t) => t.topic === 'presence');
    assert.deepEqual(presence?.partitions.map((p) => p.partition).sort(), [0, 1, 2]);
    assert.ok(presence!.partitions.every((p) => p.leader === meta.brokers[0]!.id));
  });

  it('-P produces keyed records that -C reads back, with each compression codec', async () => {
    const input = Array.from({ length: 30 }, (_, i) => `user${i % 5}:online-${i}`).join('\n') + '\n';
    await kcat(['-b', bootstrap, '-P', '-t', 'presence', '-K', ':', '-X', 'acks=all']);
    await kcat(['-b', bootstrap, '-P', '-t', 'presence', '-K', ':', '-X', 'acks=all'], input);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      await kcat(['-b', bootstrap, '-P', '-t', 'presence', '-K', ':', '-z', codec], `codec:${codec}\n`);
    }
    const out = await kcat(['-b', bootstrap, '-C', '-t', 'presence', '-o', 'beginning', '-e', '-J']);
    const messages = lines(out).map((l) => JSON.parse(l) as KcatMessage);
    assert.equal(messages.length, 34);
    assert.deepEqual(
      new Set(messages.map((m) => `${m.key}:${m.payload}`)),
      new Set([...lines(input), 'codec:gzip', 'codec:snappy', 'codec:lz4', 'codec:zstd']),
    );
    const partitionOf = new Map<string, number>();
    for (const m of messages.filter((m) => m.key!.startsWith('user'))) {
      assert.equal(partitionOf.get(m.key!) ?? m.partition, m.partition, 'a key stays on one partition');
      partitionOf.set(m.key!, m.partition);
    }
  });

  it('-G consumes as a group member and commits its offsets', async () => {
    await admin.createTopics({ topics: [{ topic: 'typing', numPartitions: 2 }] });
    for (const partition of [0, 1]) {
      const values = Array.from({ length: 5 }, (_, i) => `t${partition * 5 + i}`);
      await kcat(['-b', bootstrap, '-P', '-t', 'typing', '-p', String(partition)], values.join('\n') + '\n');
    }
    const out = await kcat(['-b', bootstrap, '-G', 'kcat-group', '-o', 'beginning', '-e', '-J', '-X', 'enable.auto.commit=true', 'typing']);
    const values = lines(out).map((l) => (JSON.parse(l) as KcatMessage).payload);
    assert.deepEqual(values.sort(), Array.from({ length: 10 }, (_, i) => `t${i}`).sort());
    const [offsets] = await admin.fetchOffsets({ groupId: 'kcat-group', topics: ['typing'] });
    const ends = await admin.fetchTopicOffsets('typing');
    for (const p of offsets!.partitions) {
      assert.equal(p.offset, ends.find((e) => e.partition === p.partition)!.high, `partition ${p.partition} committed to its end`);
    }
  });

  it('reads what kafkajs produced', async () => {
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'handoff', acks: -1, messages: [{ key: 'js', value: 'from-kafkajs' }] });
    await producer.disconnect();
    const out = await kcat(['-b', bootstrap, '-C', '-t', 'handoff', '-o', 'beginning', '-e', '-J']);
    assert.deepEqual(lines(out).map((l) => (JSON.parse(l) as KcatMessage).payload), ['from-kafkajs']);
  });
});
