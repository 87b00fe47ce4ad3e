import { Module, type DynamicModule } from '@nestjs/common';
import { PUBSUB_CONFIG, type PubsubConfig } from './config';
import { PubsubEventLog } from './event-log';
import { PubsubController } from './pubsub.controller';
import { PubsubDatabase } from './pubsub-database';
import { PubsubProjection } from './pubsub.projection';
import { PubsubRepository } from './pubsub.repository';
import { PubsubService } from './pubsub.service';
import { AppliedEvents } from '@hearth/kafka';

@Module({})
export class PubsubModule {
  static forConfig(config: PubsubConfig): DynamicModule {
    return {
      module: PubsubModule,
      controllers: [PubsubController],
      providers: [
        { provide: PUBSUB_CONFIG, useValue: config },
        { provide: PubsubDatabase, useFactory: () => new PubsubDatabase(config.DATABASE_URL) },
        AppliedEvents,
        PubsubEventLog,
        PubsubRepository,
        PubsubService,
        PubsubProjection,
      ],
    };
  }
}
