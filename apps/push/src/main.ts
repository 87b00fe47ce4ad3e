import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { startService } from '@hearth/nest-service';
import { createLogger } from '@hearth/runtime';
import { loadPushConfig } from './config';
import { PushModule } from './push.module';

async function main(): Promise<void> {
  const config = loadPushConfig();
  const logger = createLogger('push');
  await applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger });
  const service = await startService({
    name: 'push',
    module: PushModule.forConfig(config),
    logger,
    http: { port: config.HEARTH_HTTP_PORT },
    grpc: { package: 'hearth.push', protoPath: protoPath('push'), port: config.HEARTH_GRPC_PORT },
  });
  logger.info({ httpPort: service.httpPort, grpcPort: service.grpcPort }, 'push listening');
}

void main().catch((error: unknown) => {
  process.stderr.write(`push failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
