/**
 * CreatePartitions (key 37), v0-v1: grows a topic. Assignments may only name this broker.
 * https://kafka.apache.org/protocol#The_Messages_CreatePartitions
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode, KafkaError, type ErrorCodeValue } from '../error-codes';

export const createPartitions: ApiModule = {
  key: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 1,
  handle({ body, broker }) {
    const topics = body.array((r) => ({
      name: r.string(),
      count: r.int32(),
      assignments: r.nullableArray((r) => r.array((r) => r.int32())),
    }));
    body.int32(); // timeout_ms
    const validateOnly = body.boolean();
    const results = topics.map((t): [string, ErrorCodeValue, string | null] => {
      try {
        if (t.assignments?.some((replicas) => replicas.some((b) => b !== broker.nodeId))) {
          throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'assignments may only name this broker');
        }
        broker.topics.addPartitions(t.name, t.count, validateOnly);
        return [t.name, ErrorCode.NONE, null];
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error;
        return [t.name, error.code, error.message];
      }
    });
    return new Writer().int32(0).array(results, (w, [name, code, message]) => w.string(name).int16(code).nullableString(message));
  },
};
