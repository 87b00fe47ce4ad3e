/**
 * FindCoordinator (key 10), v0-v2: this broker coordinates every group (and would every
 * transactional id). https://kafka.apache.org/protocol#The_Messages_FindCoordinator
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode } from '../error-codes';

export const findCoordinator: ApiModule = {
  key: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  handle({ version, body, broker }) {
    body.string(); // key
    if (version >= 1) body.int8(); // key_type
    const w = new Writer();
    if (version >= 1) w.int32(0);
    w.int16(ErrorCode.NONE);
    if (version >= 1) w.nullableString(null);
    return w.int32(broker.nodeId).string(broker.advertised.host).int32(broker.advertised.port);
  },
};
