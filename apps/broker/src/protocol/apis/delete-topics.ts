/**
 * DeleteTopics (key 20), v0-v3. https://kafka.apache.org/protocol#The_Messages_DeleteTopics
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode, KafkaError, type ErrorCodeValue } from '../error-codes';

export const deleteTopics: ApiModule = {
  key: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 3,
  handle({ version, body, broker }) {
    const names = body.array((r) => r.string());
    body.int32(); // timeout_ms
    const results = names.map((name): [string, ErrorCodeValue] => {
      try {
        broker.topics.delete(name);
        return [name, ErrorCode.NONE];
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error;
        return [name, error.code];
      }
    });
    const w = new Writer();
    if (version >= 1) w.int32(0);
    return w.array(results, (w, [name, code]) => w.string(name).int16(code));
  },
};
