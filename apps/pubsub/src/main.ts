import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { startService } from '@hearth/nest-service';
import { createLogger } from '@hearth/runtime';
import { loadPubsubConfig } from './config';
import { PubsubModule } from './pubsub.module';

async function main(): Promise<void> {
  const config = loadPubsubConfig();
  const logger = createLogger('pubsub');
  await applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger });
  const service = await startService({
    name: 'pubsub',
    module: PubsubModule.forConfig(config),
    logger,
    http: { port: config.HEARTH_HTTP_PORT },
    grpc: { package: 'hearth.pubsub', protoPath: protoPath('pubsub'), port: config.HEARTH_GRPC_PORT },
  });
  logger.info({ httpPort: service.httpPort, grpcPort: service.grpcPort, services: config.HEARTH_DOMAINS.map((d) => `pubsub.${d}`) }, 'pubsub listening');
}

void main().catch((error: unknown) => {
  process.stderr.write(`pubsub failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
