/**
 * LeaveGroup (key 13), v0-v3 (v3 leaves several members at once, KIP-345).
 * https://kafka.apache.org/protocol#The_Messages_LeaveGroup
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode } from '../error-codes';

export const leaveGroup: ApiModule = {
  key: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 3,
  handle({ version, body, broker }) {
    const groupId = body.string();
    const members =
      version >= 3
        ? body.array((r) => ({ memberId: r.string(), groupInstanceId: r.nullableString() }))
        : [{ memberId: body.string(), groupInstanceId: null }];
    const errors = broker.groups.leave(groupId, members);
    const w = new Writer();
    if (version >= 1) w.int32(0);
    if (version < 3) return w.int16(errors[0]!);
    w.int16(ErrorCode.NONE);
    return w.array(members, (w, m, i) => w.string(m.memberId).nullableString(m.groupInstanceId).int16(errors[i]!));
  },
};
