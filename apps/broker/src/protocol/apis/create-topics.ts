/**
 * CreateTopics (key 19), v0-v4. https://kafka.apache.org/protocol#The_Messages_CreateTopics
 * Replication factor must be 1 (or -1, the default): there is one broker, and Kafka would
 * refuse a larger factor the same way.
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode, KafkaError, type ErrorCodeValue } from '../error-codes';

export const createTopics: ApiModule = {
  key: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 4,
  handle({ version, body, broker }) {
    const topics = body.array((r) => ({
      name: r.string(),
      numPartitions: r.int32(),
      replicationFactor: r.int16(),
      assignments: r.array((r) => ({ index: r.int32(), brokers: r.array((r) => r.int32()) })),
      configs: r.array((r) => [r.string(), r.nullableString()] as const),
    }));
    body.int32(); // timeout_ms
    const validateOnly = version >= 1 ? body.boolean() : false;
    const seen = new Set<string>();
    const results = topics.map((t): { name: string; errorCode: ErrorCodeValue; message: string | null } => {
      try {
        if (seen.has(t.name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `topic ${t.name} listed twice`);
        seen.add(t.name);
        let partitions = t.numPartitions;
        let replication = t.replicationFactor;
        if (t.assignments.length > 0) {
          if (partitions !== -1 || replication !== -1) {
            throw new KafkaError(ErrorCode.INVALID_REQUEST, 'both assignments and partitions/replication factor given');
          }
          const indexes = t.assignments.map((a) => a.index).sort((a, b) => a - b);
          if (indexes.some((index, i) => index !== i) || t.assignments.some((a) => a.brokers.some((b) => b !== broker.nodeId))) {
            throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'assignments must name partitions 0..n-1 on this broker');
          }
          partitions = t.assignments.length;
          replication = Math.max(...t.assignments.map((a) => a.brokers.length));
        }
        const configs: Record<string, string> = {};
        for (const [key, value] of t.configs) if (value !== null) configs[key] = value;
        broker.topics.validateCreate(t.name, partitions, replication, configs);
        if (!validateOnly) broker.topics.create(t.name, partitions, configs);
        return { name: t.name, errorCode: ErrorCode.NONE, message: null };
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error;
        return { name: t.name, errorCode: error.code, message: error.message };
      }
    });
    const w = new Writer();
    if (version >= 2) w.int32(0);
    return w.array(results, (w, r) => {
      w.string(r.name).int16(r.errorCode);
      if (version >= 1) w.nullableString(r.message);
    });
  },
};
