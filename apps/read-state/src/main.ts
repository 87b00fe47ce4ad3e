import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { runService } from '@hearth/nest-service';
import { loadReadStateConfig } from './config';
import { ReadStateModule } from './read-state.module';

runService({
  name: 'read-state',
  loadConfig: loadReadStateConfig,
  prepare: (config, logger) =>
    applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger }),
  module: (config) => ReadStateModule.forConfig(config),
  grpc: { package: 'hearth.read_state', protoPath: protoPath('read-state') },
});
