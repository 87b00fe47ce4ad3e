import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Envelope } from '@hearth/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@hearth/kafka';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { ARCHIVE_CONFIG, type ArchiveConfig } from './config';

/** Appends the archive's own events (preferences, retention) to the log; connects on first use. */
@Injectable()
export class ArchiveLog implements OnModuleDestroy {
  private producer?: Promise<EventProducer>;

  constructor(
    @Inject(ARCHIVE_CONFIG) private readonly config: ArchiveConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async publish(event: Envelope): Promise<void> {
    this.producer ??= createEventProducer(createKafka({ brokers: this.config.HEARTH_KAFKA_BROKERS, clientId: 'archive-producer', logger: this.logger }));
    await (await this.producer).publish(event);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.producer) await (await this.producer).disconnect();
  }
}
