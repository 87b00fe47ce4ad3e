import { Module, type DynamicModule } from '@nestjs/common';
import { HttpAuth } from './api/http-auth';
import { PushGrpcController } from './api/push.grpc.controller';
import { PushHttpController } from './api/push.http.controller';
import { ApnsClient } from './apns-client';
import { PUSH_CONFIG, type PushConfig } from './config';
import { PushDatabase } from './push-database';
import { PushDispatcher } from './push-dispatcher';
import { PushLog } from './push-log';
import { PushProjection } from './push.projection';
import { PushRegistrations } from './push-registrations.service';
import { AppliedEvents } from '@hearth/kafka';

@Module({})
export class PushModule {
  static forConfig(config: PushConfig): DynamicModule {
    return {
      module: PushModule,
      controllers: [PushHttpController, PushGrpcController],
      providers: [
        { provide: PUSH_CONFIG, useValue: config },
        { provide: PushDatabase, useFactory: () => new PushDatabase(config.DATABASE_URL) },
        PushLog,
        AppliedEvents,
        ApnsClient,
        PushDispatcher,
        PushProjection,
        PushRegistrations,
        HttpAuth,
      ],
    };
  }
}
