import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Synchronous writes to stdout, on purpose (pino's default, made explicit). An asynchronous
 * destination (`pino.destination({ sync: false })`) saves a write per line but loses what is
 * buffered when the process ends through `process.exit` (a bad configuration exits 78, a failed
 * start exits 1, a drained SIGTERM exits 0) or crashes, unless every such path flushes first —
 * and the last lines are the ones that explain the exit. At our log rates (info: lifecycle and
 * failures, not per stanza or per event; debug is for investigations) the synchronous write costs
 * little, and tests and `npm start` read the `listening` lines the moment they are written.
 */
const STDOUT = pino.destination({ dest: 1, sync: true });

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
  }, STDOUT);
}
