/**
 * Metadata (key 3), v0-v8. https://kafka.apache.org/protocol#The_Messages_Metadata
 * One broker leads every partition; unknown topics are created when auto-creation is allowed
 * by both the request (v4+) and HEARTH_BROKER_AUTO_CREATE_TOPICS.
 */
import { Writer } from '../codec';
import { AUTHORIZED_OPERATIONS_OMITTED, type ApiModule } from '../api';
import { ErrorCode, KafkaError } from '../error-codes';
import type { Topic } from '../../storage/topic-registry';

export const metadata: ApiModule = {
  key: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 8,
  handle({ version, body, broker }) {
    const requested = version === 0 ? body.array((r) => r.string()) : body.nullableArray((r) => r.string());
    const allowAutoCreate = version >= 4 ? body.boolean() : true;
    const all = requested === null || (version === 0 && requested.length === 0);
    const answers: { name: string; errorCode: number; topic?: Topic }[] = [];
    if (all) {
      for (const topic of broker.topics.all()) answers.push({ name: topic.name, errorCode: ErrorCode.NONE, topic });
    } else {
      for (const name of requested) {
        try {
          const topic = broker.topics.getOrAutoCreate(name, allowAutoCreate);
          answers.push(topic ? { name, errorCode: ErrorCode.NONE, topic } : { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        } catch (error) {
          if (!(error instanceof KafkaError)) throw error;
          answers.push({ name, errorCode: error.code });
        }
      }
    }
    const node = broker.nodeId;
    const w = new Writer();
    if (version >= 3) w.int32(0);
    w.array([node], (w) => {
      w.int32(node).string(broker.advertised.host).int32(broker.advertised.port);
      if (version >= 1) w.nullableString(null);
    });
    if (version >= 2) w.nullableString(broker.clusterId);
    if (version >= 1) w.int32(node);
    w.array(answers, (w, a) => {
      w.int16(a.errorCode).string(a.name);
      if (version >= 1) w.boolean(false);
      w.array(a.topic?.partitions ?? [], (w, _log, index) => {
        w.int16(ErrorCode.NONE).int32(index).int32(node);
        if (version >= 7) w.int32(0);
        w.array([node], (w, n) => w.int32(n));
        w.array([node], (w, n) => w.int32(n));
        if (version >= 5) w.array([], () => undefined);
      });
      if (version >= 8) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
    });
    if (version >= 8) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
    return w;
  },
};
