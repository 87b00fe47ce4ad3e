import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { startService } from '@hearth/nest-service';
import { createLogger } from '@hearth/runtime';
import { loadReadStateConfig } from './config';
import { ReadStateModule } from './read-state.module';

async function main(): Promise<void> {
  const config = loadReadStateConfig();
  const logger = createLogger('read-state');
  await applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger });
  const service = await startService({
    name: 'read-state',
    module: ReadStateModule.forConfig(config),
    logger,
    http: { port: config.HEARTH_HTTP_PORT },
    grpc: { package: 'hearth.read_state', protoPath: protoPath('read-state'), port: config.HEARTH_GRPC_PORT },
  });
  logger.info({ httpPort: service.httpPort, grpcPort: service.grpcPort }, 'read-state listening');
}

void main().catch((error: unknown) => {
  process.stderr.write(`read-state failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
