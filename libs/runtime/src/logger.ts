import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Writes to stdout are asynchronous and flushed synchronously when the process exits: pino's own
 * default, made explicit here as a decision. Each line is handed to the kernel at once (no
 * buffering up to a minimum length), and `process.exit` (a bad configuration exits 78, a failed
 * start 1, a drained SIGTERM 0) and uncaught exceptions run pino's exit hook, which flushes what is
 * still queued, so the lines that explain an exit are not lost; only a SIGKILL can cut the
 * last line or two. We do not use `sync: true`: a slow or unread stdout pipe (a log shipper that
 * falls behind, a parent that does not drain a child's output) would then block the event loop
 * and stall every connection, which is worse than a lost line on SIGKILL. A process that must not
 * announce something before it can act on it (a `listening` line before its SIGTERM handler)
 * orders its code accordingly rather than relying on when a log line reaches the reader.
 */
const STDOUT = pino.destination({ dest: 1, sync: false });

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
