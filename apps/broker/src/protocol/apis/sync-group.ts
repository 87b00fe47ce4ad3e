/**
 * SyncGroup (key 14), v0-v3: the leader hands in the assignment, every member gets its share.
 * https://kafka.apache.org/protocol#The_Messages_SyncGroup
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';

export const syncGroup: ApiModule = {
  key: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 3,
  async handle({ version, body, broker }) {
    const groupId = body.string();
    const generationId = body.int32();
    const memberId = body.string();
    if (version >= 3) body.nullableString(); // group_instance_id
    const assignments = new Map(body.array((r) => [r.string(), Buffer.from(r.bytes())] as const));
    const result = await broker.groups.sync(groupId, memberId, generationId, assignments);
    const w = new Writer();
    if (version >= 1) w.int32(0);
    return w.int16(result.errorCode).bytes(result.assignment);
  },
};
