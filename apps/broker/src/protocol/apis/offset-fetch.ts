/**
 * OffsetFetch (key 9), v1-v5: committed offsets of a group (-1 where none).
 * https://kafka.apache.org/protocol#The_Messages_OffsetFetch
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode } from '../error-codes';

export const offsetFetch: ApiModule = {
  key: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 5,
  handle({ version, body, broker }) {
    const groupId = body.string();
    const requested = body.nullableArray((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }));
    const topics =
      requested ??
      Object.entries(
        broker.offsets.all(groupId).reduce<Record<string, number[]>>((acc, o) => {
          (acc[o.topic] ??= []).push(o.partition);
          return acc;
        }, {}),
      ).map(([name, partitions]) => ({ name, partitions }));
    const w = new Writer();
    if (version >= 3) w.int32(0);
    w.array(topics, (w, t) =>
      w.string(t.name).array(t.partitions, (w, index) => {
        const committed = broker.offsets.get(groupId, t.name, index);
        w.int32(index).int64(committed?.offset ?? -1);
        if (version >= 5) w.int32(committed?.leaderEpoch ?? -1);
        w.nullableString(committed?.metadata ?? '').int16(ErrorCode.NONE);
      }),
    );
    if (version >= 2) w.int16(ErrorCode.NONE);
    return w;
  },
};
