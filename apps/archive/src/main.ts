import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { startService } from '@hearth/nest-service';
import { createLogger } from '@hearth/runtime';
import { ArchiveModule } from './archive.module';
import { loadArchiveConfig } from './config';

async function main(): Promise<void> {
  const config = loadArchiveConfig();
  const logger = createLogger('archive');
  await applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger });
  const service = await startService({
    name: 'archive',
    module: ArchiveModule.forConfig(config),
    logger,
    http: { port: config.HEARTH_HTTP_PORT },
    grpc: { package: 'hearth.archive', protoPath: protoPath('archive'), port: config.HEARTH_GRPC_PORT },
  });
  logger.info({ httpPort: service.httpPort, grpcPort: service.grpcPort }, 'archive listening');
}

void main().catch((error: unknown) => {
  process.stderr.write(`archive failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
