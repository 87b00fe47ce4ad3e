import { join } from 'node:path';
import { protoPath } from '@hearth/contracts';
import { applyMigrations } from '@hearth/database';
import { runService } from '@hearth/nest-service';
import { loadArchiveConfig } from './config';
import { ArchiveModule } from './archive.module';

runService({
  name: 'archive',
  loadConfig: loadArchiveConfig,
  prepare: (config, logger) =>
    applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir: join(__dirname, '../../prisma/migrations'), logger }),
  module: (config) => ArchiveModule.forConfig(config),
  grpc: { package: 'hearth.archive', protoPath: protoPath('archive') },
});
