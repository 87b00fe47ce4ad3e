import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@hearth/runtime';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
}

/** One kafkajs client per process, logging through our structured logger. */
export function createKafka({ brokers, clientId, logger }: KafkaOptions): Kafka {
  ignoreKafkajsNegativeTimeoutWarning();
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

let negativeTimeoutFilterInstalled = false;

/**
 * kafkajs 2.2.4's request queue (src/network/requestQueue/index.js, scheduleCheckPendingRequests)
 * schedules `setTimeout(check, throttledUntil - Date.now())` even when it was never throttled
 * (throttledUntil = -1) and nothing is pending: a delay of about minus the epoch. Node runs such a
 * timer after 1 ms, which is harmless here, but since Node 23 also emits a TimeoutNegativeWarning
 * on stderr (once per process: Node warns about the first negative timeout only, and kafkajs
 * always gets there first, so a later one of our own would be hidden by Node either way). Only
 * that warning, raised from that function, is dropped; every other warning reaches the process.
 */
function ignoreKafkajsNegativeTimeoutWarning(): void {
  if (negativeTimeoutFilterInstalled) return;
  negativeTimeoutFilterInstalled = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const option = rest[0];
    const type = typeof option === 'string' ? option : (option as { type?: string } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning' && /kafkajs[\\/]src[\\/]network[\\/]requestQueue/.test(new Error().stack ?? '')) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}
