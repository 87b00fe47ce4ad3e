import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@hearth/runtime';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
}

/** One kafkajs client per process, logging through our structured logger. */
export function createKafka({ brokers, clientId, logger }: KafkaOptions): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }: LogEntry) => {
      const { message, ...fields } = log;
      const child = { kafka: log.namespace ?? 'kafkajs', ...fields };
      if (level <= logLevel.ERROR) logger.error(child, message);
      else if (level === logLevel.WARN) logger.warn(child, message);
      else logger.debug(child, message);
    },
    retry: { initialRetryTime: 100, retries: 8 },
  });
}
