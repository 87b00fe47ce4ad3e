/**
 * ListGroups (key 16), v0-v2: groups with members and groups that only have committed offsets.
 * https://kafka.apache.org/protocol#The_Messages_ListGroups
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode } from '../error-codes';

export const listGroups: ApiModule = {
  key: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  handle({ version, broker }) {
    const groups = new Map(broker.groups.list().map((g) => [g.groupId, g.protocolType]));
    for (const id of broker.offsets.groupIds()) if (!groups.has(id)) groups.set(id, '');
    const w = new Writer();
    if (version >= 1) w.int32(0);
    return w.int16(ErrorCode.NONE).array([...groups], (w, [id, type]) => w.string(id).string(type));
  },
};
