/**
 * OffsetCommit (key 8), v2-v7. https://kafka.apache.org/protocol#The_Messages_OffsetCommit
 * Checked against the member's generation, then made durable before the answer.
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode, type ErrorCodeValue } from '../error-codes';
import type { OffsetCommitEntry } from '../../groups/offset-store';

export const offsetCommit: ApiModule = {
  key: 8,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 7,
  async handle({ version, body, broker }) {
    const groupId = body.string();
    const generationId = body.int32();
    const memberId = body.string();
    if (version >= 7) body.nullableString(); // group_instance_id
    if (version <= 4) body.int64(); // retention_time_ms: offsets are kept as long as the broker's data
    const topics = body.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32();
        const offset = r.int64();
        const leaderEpoch = version >= 6 ? r.int32() : -1;
        return { index, offset, leaderEpoch, metadata: r.nullableString() };
      }),
    }));
    let groupError: ErrorCodeValue = groupId === '' ? ErrorCode.INVALID_GROUP_ID : broker.groups.validateCommit(groupId, memberId, generationId);
    const accepted: OffsetCommitEntry[] = [];
    const errors = topics.map((t) =>
      t.partitions.map((p): ErrorCodeValue => {
        if (groupError !== ErrorCode.NONE) return groupError;
        if (!broker.topics.get(t.name)?.partitions[p.index]) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        accepted.push({ topic: t.name, partition: p.index, offset: p.offset, leaderEpoch: p.leaderEpoch, metadata: p.metadata });
        return ErrorCode.NONE;
      }),
    );
    if (accepted.length > 0) {
      try {
        await broker.offsets.commit(groupId, accepted);
      } catch {
        groupError = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        for (const list of errors) list.fill(groupError);
      }
    }
    const w = new Writer();
    if (version >= 3) w.int32(0);
    return w.array(topics, (w, t, ti) => w.string(t.name).array(t.partitions, (w, p, pi) => w.int32(p.index).int16(errors[ti]![pi]!)));
  },
};
