import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { runService } from '@hearth/nest-service';
import { loadPubsubConfig } from './config';
import { PubsubModule } from './pubsub.module';

runService({
  name: 'pubsub',
  loadConfig: loadPubsubConfig,
  prepare: (config, logger) =>
    applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger }),
  module: (config) => PubsubModule.forConfig(config),
  grpc: { package: 'hearth.pubsub', protoPath: protoPath('pubsub') },
  listening: (config) => ({ services: config.HEARTH_DOMAINS.map((d) => `pubsub.${d}`) }),
});
