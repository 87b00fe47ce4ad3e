import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@hearth/runtime';

/**
 * Nest's own log lines, through the service's structured logger. `routineLevel` is the level of
 * Nest's `log` lines (module and route set-up), `info` unless a service finds them noise.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger, private readonly routineLevel: 'info' | 'debug' = 'info') {}
  log(message: unknown, context?: string) {
    this.logger[this.routineLevel]({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
