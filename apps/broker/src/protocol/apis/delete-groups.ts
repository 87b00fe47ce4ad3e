/**
 * DeleteGroups (key 42), v0-v1: removes groups without members, with their committed offsets.
 * https://kafka.apache.org/protocol#The_Messages_DeleteGroups
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode, type ErrorCodeValue } from '../error-codes';

export const deleteGroups: ApiModule = {
  key: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 1,
  async handle({ body, broker }) {
    const groupIds = body.array((r) => r.string());
    const results: [string, ErrorCodeValue][] = [];
    for (const groupId of groupIds) {
      const known = broker.groups.describe(groupId) !== null || broker.offsets.all(groupId).length > 0;
      if (!known) {
        results.push([groupId, ErrorCode.GROUP_ID_NOT_FOUND]);
        continue;
      }
      const errorCode = broker.groups.delete(groupId);
      if (errorCode === ErrorCode.NONE) await broker.offsets.deleteGroup(groupId);
      results.push([groupId, errorCode]);
    }
    return new Writer().int32(0).array(results, (w, [id, code]) => w.string(id).int16(code));
  },
};
