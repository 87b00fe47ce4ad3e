/**
 * Topics on disk: `<data dir>/topics/<name>/topic.json` (partition count and configs) and one
 * directory of segments per partition, `<data dir>/topics/<name>/<partition>/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@hearth/runtime';
import { ErrorCode, KafkaError } from '../protocol/error-codes';
import type { GroupCommit } from './group-commit';
import { PartitionLog } from './partition-log';

/** Kafka's rule for topic names (Topic.java): legal characters, at most 249 of them. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** Each partition holds two open files; a topic may not take more than this many partitions. */
const MAX_PARTITIONS_PER_TOPIC = 1000;

/**
 * Topic configs the broker applies, and those it accepts because they only concern replication
 * or cleanup work a single node keeps trivially true (they are stored and reported back).
 */
const APPLIED_CONFIGS = ['retention.ms', 'retention.bytes', 'segment.bytes', 'max.message.bytes'] as const;
const ACCEPTED_CONFIGS = new Set<string>([
  ...APPLIED_CONFIGS,
  'cleanup.policy', 'min.insync.replicas', 'unclean.leader.election.enable', 'segment.ms', 'delete.retention.ms',
  'min.compaction.lag.ms', 'max.compaction.lag.ms', 'min.cleanable.dirty.ratio', 'flush.messages', 'flush.ms',
  'index.interval.bytes', 'file.delete.delay.ms', 'preallocate', 'segment.index.bytes', 'segment.jitter.ms',
  'message.timestamp.difference.max.ms', 'message.downconversion.enable', 'compression.type', 'message.timestamp.type',
]);
/** Values that would change what clients read, which this broker does not do: refused. */
const REFUSED_VALUES: Record<string, readonly string[]> = {
  'compression.type': ['gzip', 'snappy', 'lz4', 'zstd', 'uncompressed'],
  'message.timestamp.type': ['LogAppendTime'],
};

export interface BrokerDefaults {
  partitions: number;
  autoCreate: boolean;
  segmentBytes: number;
  retentionMs: number;
  retentionBytes: number;
  maxMessageBytes: number;
  tailCacheBytes: number;
  /** HEARTH_BROKER_MAX_PARTITIONS: all topics together (two open files each). */
  maxPartitions: number;
  fsync: boolean;
}

export class Topic {
  constructor(
    readonly name: string,
    readonly id: string,
    readonly partitions: PartitionLog[],
    readonly configs: Record<string, string>,
  ) {}
}

interface TopicFile {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
}

export function validateTopicName(name: string): void {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `invalid topic name ${JSON.stringify(name)}`);
  }
}

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();
  private readonly topicsDir: string;
  private readonly trashDir: string;

  constructor(
    dataDir: string,
    readonly defaults: BrokerDefaults,
    private readonly groupCommit: GroupCommit,
    private readonly log: Logger,
  ) {
    this.topicsDir = path.join(dataDir, 'topics');
    this.trashDir = path.join(dataDir, 'trash');
    fs.mkdirSync(this.topicsDir, { recursive: true });
    fs.rmSync(this.trashDir, { recursive: true, force: true });
  }

  load(): void {
    for (const dirName of fs.readdirSync(this.topicsDir)) {
      const file = path.join(this.topicsDir, dirName, 'topic.json');
      if (!fs.existsSync(file)) continue; // a creation interrupted before its metadata was written
      const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as TopicFile;
      const logs = Array.from({ length: meta.partitions }, (_, p) => this.openLog(meta.name, p, meta.configs));
      this.topics.set(meta.name, new Topic(meta.name, meta.id, logs, meta.configs));
    }
    this.log.info({ topics: this.topics.size }, 'topics loaded');
  }

  private openLog(topic: string, partition: number, configs: Record<string, string>): PartitionLog {
    const segmentBytes = Number(configs['segment.bytes'] ?? this.defaults.segmentBytes);
    return PartitionLog.open(
      path.join(this.topicsDir, topic, String(partition)),
      { segmentBytes, fsync: this.defaults.fsync, tailCacheBytes: this.defaults.tailCacheBytes },
      this.groupCommit,
      this.log,
    );
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }
  all(): Topic[] {
    return [...this.topics.values()];
  }

  /** Topic auto-creation on Metadata, as Kafka's auto.create.topics.enable. */
  getOrAutoCreate(name: string, allowed: boolean): Topic | undefined {
    const existing = this.topics.get(name);
    if (existing || !allowed || !this.defaults.autoCreate) return existing;
    this.validateCreate(name, -1, -1, {});
    return this.create(name, this.defaults.partitions, {});
  }

  validateCreate(name: string, partitions: number, replicationFactor: number, configs: Record<string, string>): void {
    validateTopicName(name);
    if (this.topics.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${name} already exists`);
    if (partitions !== -1 && (partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC)) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be 1..${MAX_PARTITIONS_PER_TOPIC}`);
    }
    const total = this.all().reduce((n, t) => n + t.partitions.length, 0);
    if (total + (partitions === -1 ? this.defaults.partitions : partitions) > this.defaults.maxPartitions) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `the broker holds at most ${this.defaults.maxPartitions} partitions (HEARTH_BROKER_MAX_PARTITIONS)`);
    }
    if (replicationFactor !== -1 && replicationFactor !== 1) {
      throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor} larger than the 1 available broker`);
    }
    for (const [key, value] of Object.entries(configs)) {
      if (!ACCEPTED_CONFIGS.has(key)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `unknown topic config ${key}`);
      if (REFUSED_VALUES[key]?.includes(value)) {
        throw new KafkaError(ErrorCode.INVALID_CONFIG, `${key}=${value} is not supported by this broker`);
      }
      if ((APPLIED_CONFIGS as readonly string[]).includes(key) && !/^-?\d+$/.test(value)) {
        throw new KafkaError(ErrorCode.INVALID_CONFIG, `${key} must be an integer`);
      }
    }
  }

  create(name: string, partitions: number, configs: Record<string, string>): Topic {
    const count = partitions === -1 ? this.defaults.partitions : partitions;
    const dir = path.join(this.topicsDir, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const logs: PartitionLog[] = [];
    try {
      for (let p = 0; p < count; p++) logs.push(this.openLog(name, p, configs));
    } catch (error) {
      for (const log of logs) log.closeLater();
      fs.rmSync(dir, { recursive: true, force: true });
      this.log.error({ err: error, topic: name }, 'topic creation failed');
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `cannot create topic ${name}: ${(error as Error).message}`);
    }
    const topic = new Topic(name, randomUUID(), logs, configs);
    this.writeTopicFile(topic);
    this.topics.set(name, topic);
    this.log.info({ topic: name, partitions: count }, 'topic created');
    return topic;
  }

  /** CreatePartitions: grows a topic to `count` partitions (Kafka never shrinks one). */
  addPartitions(name: string, count: number, validateOnly: boolean): void {
    const topic = this.topics.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    const current = topic.partitions.length;
    if (count <= current) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `topic ${name} already has ${current} partitions`);
    if (count > MAX_PARTITIONS_PER_TOPIC) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be 1..${MAX_PARTITIONS_PER_TOPIC}`);
    }
    const total = this.all().reduce((n, t) => n + t.partitions.length, 0);
    if (total + count - current > this.defaults.maxPartitions) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `the broker holds at most ${this.defaults.maxPartitions} partitions (HEARTH_BROKER_MAX_PARTITIONS)`);
    }
    if (validateOnly) return;
    for (let p = current; p < count; p++) topic.partitions.push(this.openLog(name, p, topic.configs));
    this.writeTopicFile(topic);
    this.log.info({ topic: name, partitions: count }, 'partitions added');
  }

  private writeTopicFile(topic: Topic): void {
    const meta: TopicFile = { name: topic.name, id: topic.id, partitions: topic.partitions.length, configs: topic.configs };
    const dir = path.join(this.topicsDir, topic.name);
    const tmp = path.join(dir, 'topic.json.tmp');
    fs.writeFileSync(tmp, JSON.stringify(meta));
    fs.renameSync(tmp, path.join(dir, 'topic.json'));
  }

  delete(name: string): void {
    const topic = this.topics.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    this.topics.delete(name);
    for (const log of topic.partitions) log.closeLater();
    fs.mkdirSync(this.trashDir, { recursive: true });
    const trashed = path.join(this.trashDir, `${name}-${topic.id}`);
    fs.renameSync(path.join(this.topicsDir, name), trashed);
    fs.rm(trashed, { recursive: true, force: true }, () => undefined);
    this.log.info({ topic: name }, 'topic deleted');
  }

  /** The effective value of an applied config for a topic. */
  setting(topic: Topic, key: (typeof APPLIED_CONFIGS)[number]): number {
    const own = topic.configs[key];
    if (own !== undefined) return Number(own);
    switch (key) {
      case 'retention.ms': return this.defaults.retentionMs;
      case 'retention.bytes': return this.defaults.retentionBytes;
      case 'segment.bytes': return this.defaults.segmentBytes;
      case 'max.message.bytes': return this.defaults.maxMessageBytes;
    }
  }

  applyRetention(now = Date.now()): void {
    for (const topic of this.topics.values()) {
      const ms = this.setting(topic, 'retention.ms');
      const bytes = this.setting(topic, 'retention.bytes');
      if (ms < 0 && bytes < 0) continue;
      for (const log of topic.partitions) log.applyRetention(now, ms, bytes);
    }
  }

  async close(): Promise<void> {
    await this.groupCommit.drain();
    await Promise.all(this.all().flatMap((t) => t.partitions.map((p) => p.close())));
  }
}
