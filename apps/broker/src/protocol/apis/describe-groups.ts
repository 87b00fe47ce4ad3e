/**
 * DescribeGroups (key 15), v0-v4. https://kafka.apache.org/protocol#The_Messages_DescribeGroups
 * A group with only committed offsets is Empty; an unknown one is Dead, as Kafka answers.
 */
import { Writer } from '../codec';
import { AUTHORIZED_OPERATIONS_OMITTED, type ApiModule } from '../api';
import { ErrorCode } from '../error-codes';

export const describeGroups: ApiModule = {
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 4,
  handle({ version, body, broker }) {
    const groupIds = body.array((r) => r.string());
    if (version >= 3) body.boolean(); // include_authorized_operations
    const w = new Writer();
    if (version >= 1) w.int32(0);
    return w.array(groupIds, (w, groupId) => {
      const group = broker.groups.describe(groupId);
      const hasOffsets = broker.offsets.all(groupId).length > 0;
      const state = group?.state ?? (hasOffsets ? 'Empty' : 'Dead');
      w.int16(ErrorCode.NONE).string(groupId).string(state).string(group?.protocolType ?? '').string(group?.protocolName ?? '');
      w.array(group?.members ?? [], (w, m) => {
        w.string(m.memberId);
        if (version >= 4) w.nullableString(m.groupInstanceId);
        w.string(m.clientId).string(m.clientHost).bytes(m.metadata).bytes(m.assignment);
      });
      if (version >= 3) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
    });
  },
};
