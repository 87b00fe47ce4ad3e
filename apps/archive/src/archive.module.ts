import { Module, type DynamicModule } from '@nestjs/common';
import { ArchiveGrpcController } from './api/archive.grpc.controller';
import { ArchiveHttpController } from './api/archive.http.controller';
import { HttpAuth } from './api/http-auth';
import { ArchiveDatabase } from './archive-database';
import { ArchiveLog } from './archive-log';
import { ArchivePreferencesService } from './archive-preferences.service';
import { ArchiveProjection } from './archive.projection';
import { ArchiveReader } from './archive-reader';
import { ARCHIVE_CONFIG, type ArchiveConfig } from './config';
import { RetentionScheduler } from './retention.scheduler';

@Module({})
export class ArchiveModule {
  static forConfig(config: ArchiveConfig): DynamicModule {
    return {
      module: ArchiveModule,
      controllers: [ArchiveGrpcController, ArchiveHttpController],
      providers: [
        { provide: ARCHIVE_CONFIG, useValue: config },
        { provide: ArchiveDatabase, useFactory: () => new ArchiveDatabase(config.DATABASE_URL, config.HEARTH_ARCHIVE_DATABASE_POOL_SIZE) },
        ArchiveProjection, ArchiveReader, ArchiveLog, ArchivePreferencesService, RetentionScheduler, HttpAuth,
      ],
    };
  }
}
