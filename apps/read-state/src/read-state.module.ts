import { Module, type DynamicModule } from '@nestjs/common';
import { HttpAuth } from './api/http-auth';
import { ReadStateGrpcController } from './api/read-state.grpc.controller';
import { ReadStateHttpController } from './api/read-state.http.controller';
import { READ_STATE_CONFIG, type ReadStateConfig } from './config';
import { ProjectionProgress } from './projection-progress';
import { ReadStateDatabase } from './read-state-database';
import { ReadStateLog } from './read-state-log';
import { ReadStateProjection } from './read-state.projection';
import { ReadStateRepository } from './read-state.repository';
import { ReadStateService } from './read-state.service';

@Module({})
export class ReadStateModule {
  static forConfig(config: ReadStateConfig): DynamicModule {
    return {
      module: ReadStateModule,
      controllers: [ReadStateGrpcController, ReadStateHttpController],
      providers: [
        { provide: READ_STATE_CONFIG, useValue: config },
        { provide: ReadStateDatabase, useFactory: () => new ReadStateDatabase(config.DATABASE_URL) },
        ReadStateLog,
        ProjectionProgress,
        ReadStateProjection,
        ReadStateRepository,
        ReadStateService,
        HttpAuth,
      ],
    };
  }
}
