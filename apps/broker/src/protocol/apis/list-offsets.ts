/**
 * ListOffsets (key 2), v1-v5: earliest (-2), latest (-1) or the first offset at or after a
 * timestamp. https://kafka.apache.org/protocol#The_Messages_ListOffsets
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode, type ErrorCodeValue } from '../error-codes';

const LATEST = -1;
const EARLIEST = -2;

export const listOffsets: ApiModule = {
  key: 2,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 5,
  async handle({ version, body, broker }) {
    body.int32(); // replica_id
    if (version >= 2) body.int8(); // isolation_level
    const topics = body.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32();
        if (version >= 4) r.int32(); // current_leader_epoch
        return { index, timestamp: r.int64() };
      }),
    }));
    const results = [];
    for (const t of topics) {
      const partitions = [];
      for (const p of t.partitions) {
        const log = broker.topics.get(t.name)?.partitions[p.index];
        let errorCode: ErrorCodeValue = ErrorCode.NONE;
        let offset = -1;
        let timestamp = -1;
        if (!log) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (p.timestamp === LATEST) offset = log.highWatermark;
        else if (p.timestamp === EARLIEST) offset = log.logStartOffset;
        else if (p.timestamp < 0) errorCode = ErrorCode.UNSUPPORTED_VERSION; // -3 (max timestamp) is v7+
        else {
          const hit = await log.offsetForTimestamp(p.timestamp);
          if (hit) ({ offset, timestamp } = hit);
        }
        partitions.push({ index: p.index, errorCode, offset, timestamp });
      }
      results.push({ name: t.name, partitions });
    }
    const w = new Writer();
    if (version >= 2) w.int32(0);
    return w.array(results, (w, t) =>
      w.string(t.name).array(t.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.timestamp).int64(p.offset);
        if (version >= 4) w.int32(p.errorCode === ErrorCode.NONE ? 0 : -1);
      }),
    );
  },
};
