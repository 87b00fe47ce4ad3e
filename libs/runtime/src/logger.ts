import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs (pino). Secrets never reach a log line: the usual fields that carry them
 * are redacted wherever they appear.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization',
        'databaseUrl', '*.databaseUrl', 'deviceToken', '*.deviceToken'],
      censor: '***',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
