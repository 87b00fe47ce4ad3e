/**
 * Produce (key 0), v3-v7 (record batches v2). https://kafka.apache.org/protocol#The_Messages_Produce
 * Batches are validated (framing, CRC, idempotent sequence) and appended in request order before
 * the first await; the answer waits until they are durable (group commit).
 */
import { Writer } from '../codec';
import type { ApiModule } from '../api';
import { ErrorCode, KafkaError, type ErrorCodeValue } from '../error-codes';
import { parseProducedBatches } from '../record-batch';

interface PartitionAnswer {
  index: number;
  errorCode: ErrorCodeValue;
  baseOffset: number;
  logStartOffset: number;
  durable?: Promise<void>;
}

export const produce: ApiModule = {
  key: 0,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 7,
  async handle({ version, body, broker }) {
    const transactionalId = body.nullableString();
    const acks = body.int16();
    body.int32(); // timeout_ms: appends finish in one group commit, well within any client timeout
    const topics = body.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
    }));

    const answers = topics.map(({ name, partitions }) => ({
      name,
      partitions: partitions.map(({ index, records }): PartitionAnswer => {
        const answer: PartitionAnswer = { index, errorCode: ErrorCode.NONE, baseOffset: -1, logStartOffset: -1 };
        try {
          if (transactionalId !== null) {
            throw new KafkaError(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported');
          }
          if (acks !== -1 && acks !== 0 && acks !== 1) throw new KafkaError(ErrorCode.INVALID_REQUIRED_ACKS, `acks=${acks}`);
          const topic = broker.topics.get(name);
          const log = topic?.partitions[index];
          if (!topic || !log) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${name}/${index}`);
          if (records === null) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'null record set');
          const batches = parseProducedBatches(records);
          const maxBytes = broker.topics.setting(topic, 'max.message.bytes');
          const tooLarge = batches.find((b) => b.size > maxBytes);
          if (tooLarge) throw new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `batch of ${tooLarge.size} bytes > ${maxBytes}`);
          const durable: Promise<void>[] = [];
          batches.forEach((header, i) => {
            const appended = log.append(records.subarray(header.start, header.start + header.size), header);
            if (i === 0) answer.baseOffset = appended.baseOffset;
            durable.push(appended.durable);
          });
          answer.logStartOffset = log.logStartOffset;
          answer.durable = Promise.all(durable).then(() => undefined);
        } catch (error) {
          if (!(error instanceof KafkaError)) throw error;
          broker.log.debug({ topic: name, partition: index, code: error.code, reason: error.message }, 'produce refused');
          answer.errorCode = error.code;
        }
        return answer;
      }),
    }));

    for (const topic of answers) {
      for (const p of topic.partitions) {
        try {
          await p.durable;
        } catch (error) {
          p.errorCode = error instanceof KafkaError ? error.code : ErrorCode.KAFKA_STORAGE_ERROR;
          p.baseOffset = -1;
        }
      }
    }
    if (acks === 0) return null;
    const w = new Writer().array(answers, (w, t) =>
      w.string(t.name).array(t.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(-1); // log_append_time: CreateTime topics
        if (version >= 5) w.int64(p.logStartOffset);
      }),
    );
    return w.int32(0);
  },
};
