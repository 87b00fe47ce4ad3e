import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { runService } from '@hearth/nest-service';
import { loadPushConfig } from './config';
import { PushModule } from './push.module';

runService({
  name: 'push',
  loadConfig: loadPushConfig,
  prepare: (config, logger) =>
    applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger }),
  module: (config) => PushModule.forConfig(config),
  grpc: { package: 'hearth.push', protoPath: protoPath('push') },
});
