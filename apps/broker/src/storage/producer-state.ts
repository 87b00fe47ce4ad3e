/**
 * Idempotent-producer state of one partition (KIP-98): per producer id, its epoch and the
 * sequence ranges of its last five batches, so a retried batch is answered with the offset it
 * already has instead of being appended twice. Rebuilt from the log at start, like Kafka does.
 */
import { ErrorCode, KafkaError } from '../protocol/error-codes';

/** Kafka keeps the last five batches per producer (max.in.flight.requests.per.connection <= 5). */
const BATCHES_KEPT = 5;
const INT32_MAX = 2147483647;

interface BatchMark {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
}
interface ProducerEntry {
  epoch: number;
  batches: BatchMark[];
}

export interface ProducedBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
}

function lastSequence(baseSequence: number, delta: number): number {
  return baseSequence > INT32_MAX - delta ? delta - (INT32_MAX - baseSequence) - 1 : baseSequence + delta;
}
function nextSequence(seq: number): number {
  return seq === INT32_MAX ? 0 : seq + 1;
}

export class ProducerStateTable {
  private readonly producers = new Map<number, ProducerEntry>();

  /**
   * Checks a batch against the producer's state: returns the earlier append when the batch is a
   * retry, null when it is new and in sequence, and throws the protocol error otherwise.
   */
  check(batch: ProducedBatch): { baseOffset: number; lastOffset: number } | null {
    if (batch.producerId < 0) return null;
    const entry = this.producers.get(batch.producerId);
    if (entry === undefined) return null; // unknown producer (new, or its batches expired): any sequence
    if (batch.producerEpoch < entry.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `producer ${batch.producerId} epoch ${batch.producerEpoch} < ${entry.epoch}`);
    }
    const lastSeq = lastSequence(batch.baseSequence, batch.lastOffsetDelta);
    if (batch.producerEpoch === entry.epoch) {
      const duplicate = entry.batches.find((b) => b.firstSeq === batch.baseSequence && b.lastSeq === lastSeq);
      if (duplicate) return { baseOffset: duplicate.baseOffset, lastOffset: duplicate.lastOffset };
      const last = entry.batches[entry.batches.length - 1];
      if (last !== undefined && batch.baseSequence !== nextSequence(last.lastSeq)) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `producer ${batch.producerId}: sequence ${batch.baseSequence}, expected ${nextSequence(last.lastSeq)}`,
        );
      }
    } else if (batch.baseSequence !== 0) {
      throw new KafkaError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${batch.producerId}: new epoch ${batch.producerEpoch} must start at sequence 0, got ${batch.baseSequence}`,
      );
    }
    return null;
  }

  record(batch: ProducedBatch, baseOffset: number): void {
    if (batch.producerId < 0) return;
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined || entry.epoch !== batch.producerEpoch) {
      entry = { epoch: batch.producerEpoch, batches: [] };
      this.producers.set(batch.producerId, entry);
    }
    entry.batches.push({
      firstSeq: batch.baseSequence,
      lastSeq: lastSequence(batch.baseSequence, batch.lastOffsetDelta),
      baseOffset,
      lastOffset: baseOffset + batch.lastOffsetDelta,
    });
    if (entry.batches.length > BATCHES_KEPT) entry.batches.shift();
  }

  maxProducerId(): number {
    let max = -1;
    for (const id of this.producers.keys()) max = Math.max(max, id);
    return max;
  }
}
