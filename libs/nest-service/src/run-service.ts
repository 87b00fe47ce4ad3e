import type { DynamicModule } from '@nestjs/common';
import { createLogger, type Logger } from '@hearth/runtime';
import { startService } from './bootstrap';

export interface RunServiceOptions<C extends { HEARTH_HTTP_PORT: number; HEARTH_GRPC_PORT: number }> {
  /** The service's name in logs and metrics; it logs `<name> listening` with its ports once up. */
  name: string;
  /** Parses the environment; exits with a one-line error naming the variable (loadConfigOrExit). */
  loadConfig(): C;
  /** Runs before Nest starts, e.g. applying the service's migrations. */
  prepare?(config: C, logger: Logger): Promise<unknown>;
  module(config: C): DynamicModule;
  grpc: { package: string; protoPath: string };
  /** Extra fields for the `<name> listening` line. */
  listening?(config: C): Record<string, unknown>;
}

/**
 * The start-up sequence of a service's `main.ts`: configuration, logger, preparation (migrations),
 * startService with HTTP and gRPC, the `<name> listening` line (tests and `npm start` wait for
 * it), and exit 1 with the stack on stderr when anything before that fails.
 */
export function runService<C extends { HEARTH_HTTP_PORT: number; HEARTH_GRPC_PORT: number }>(options: RunServiceOptions<C>): void {
  const start = async () => {
    const config = options.loadConfig();
    const logger = createLogger(options.name);
    await options.prepare?.(config, logger);
    const service = await startService({
      name: options.name,
      module: options.module(config),
      logger,
      http: { port: config.HEARTH_HTTP_PORT },
      grpc: { ...options.grpc, port: config.HEARTH_GRPC_PORT },
    });
    logger.info({ httpPort: service.httpPort, grpcPort: service.grpcPort, ...options.listening?.(config) }, `${options.name} listening`);
  };
  start().catch((error: unknown) => {
    process.stderr.write(`${options.name} failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
