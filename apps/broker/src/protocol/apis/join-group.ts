/**
 * JoinGroup (key 11), v0-v5. https://kafka.apache.org/protocol#The_Messages_JoinGroup
 * The answer is held until the rebalance's join phase completes (see GroupCoordinator).
 * Member ids are assigned on the first join (the MEMBER_ID_REQUIRED round trip of v4+ is optional
 * for a broker and skipped).
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';

export const joinGroup: ApiModule = {
  key: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 5,
  async handle({ version, body, broker, clientId, clientHost }) {
    const groupId = body.string();
    const sessionTimeoutMs = body.int32();
    const rebalanceTimeoutMs = version >= 1 ? body.int32() : sessionTimeoutMs;
    const memberId = body.string();
    const groupInstanceId = version >= 5 ? body.nullableString() : null;
    const protocolType = body.string();
    const protocols = body.array((r) => ({ name: r.string(), metadata: Buffer.from(r.bytes()) }));
    const result = await broker.groups.join({
      groupId, memberId, groupInstanceId, clientId: clientId ?? '', clientHost,
      sessionTimeoutMs, rebalanceTimeoutMs, protocolType, protocols,
    });
    const w = new Writer();
    if (version >= 2) w.int32(0);
    w.int16(result.errorCode).int32(result.generationId).string(result.protocolName ?? '')
      .string(result.leader).string(result.memberId);
    return w.array(result.members, (w, m) => {
      w.string(m.memberId);
      if (version >= 5) w.nullableString(m.groupInstanceId);
      w.bytes(m.metadata);
    });
  },
};
