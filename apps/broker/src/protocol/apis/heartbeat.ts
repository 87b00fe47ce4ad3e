/**
 * Heartbeat (key 12), v0-v3: keeps a member's session alive and tells it when to rejoin
 * (REBALANCE_IN_PROGRESS). https://kafka.apache.org/protocol#The_Messages_Heartbeat
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';

export const heartbeat: ApiModule = {
  key: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 3,
  handle({ version, body, broker }) {
    const groupId = body.string();
    const generationId = body.int32();
    const memberId = body.string();
    if (version >= 3) body.nullableString(); // group_instance_id
    const errorCode = broker.groups.heartbeat(groupId, memberId, generationId);
    const w = new Writer();
    if (version >= 1) w.int32(0);
    return w.int16(errorCode);
  },
};
