/**
 * InitProducerId (key 22), v0-v1: ids for idempotent producers (KIP-98). Transactional ids are
 * refused: this broker implements no transaction coordinator.
 * https://kafka.apache.org/protocol#The_Messages_InitProducerId
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode } from '../error-codes';

export const initProducerId: ApiModule = {
  key: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 1,
  handle({ body, broker }) {
    const transactionalId = body.nullableString();
    body.int32(); // transaction_timeout_ms
    const w = new Writer().int32(0);
    if (transactionalId !== null) {
      broker.log.warn({ transactionalId }, 'InitProducerId with a transactional id refused: transactions are not supported');
      return w.int16(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED).int64(-1).int16(-1);
    }
    return w.int16(ErrorCode.NONE).int64(broker.producerIds.allocate()).int16(0);
  },
};
