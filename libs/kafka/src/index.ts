export { createKafka, type KafkaOptions } from './client';
export { createEventProducer, type EventProducer } from './producer';
export { runProjection, type ConsumedEvent, type LaneProgress, type ProjectionOptions, type RunningProjection, type RetryPolicy } from './projection';
export {
  pgProjectionDatabase, prismaProjectionDatabase, type ProjectionDatabase, type SqlExecutor, type PrismaLike, type PrismaRawSql,
} from './projection-database';
export { isTransient } from './errors';
export { AppliedEvents } from './applied-events';
export { topicEndOffsets } from './topic-offsets';
export { FreshReads, type FreshReadsOptions, type LocalLane } from './fresh-reads';
export { CheckpointPositions, type CheckpointReader } from './checkpoint-positions';
