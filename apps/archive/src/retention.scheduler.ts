import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ArchiveRetentionApplied, createEvent } from '@hearth/contracts';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { ArchiveLog } from './archive-log';
import { ARCHIVE_CONFIG, type ArchiveConfig } from './config';

const DAY_MS = 86_400_000;

/**
 * Applies the retention period (HEARTH_ARCHIVE_RETENTION_DAYS) by appending
 * ArchiveRetentionApplied every HEARTH_ARCHIVE_RETENTION_CHECK_SECONDS: the deletion is an event,
 * so a rebuild removes exactly what the live archive removed. Several replicas may each append
 * one; applying the same horizon twice changes nothing.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly log: ArchiveLog,
    @Inject(ARCHIVE_CONFIG) private readonly config: ArchiveConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const days = this.config.HEARTH_ARCHIVE_RETENTION_DAYS;
    if (days === 0) {
      this.logger.debug('retention period not set (HEARTH_ARCHIVE_RETENTION_DAYS=0): the archive keeps everything');
      return;
    }
    const apply = () => {
      const before = new Date(Date.now() - days * DAY_MS).toISOString();
      this.log.publish(createEvent(ArchiveRetentionApplied, { before }, { key: 'retention', producer: 'archive' })).catch((error: unknown) =>
        this.logger.warn({ err: error }, 'could not append ArchiveRetentionApplied; retrying at the next check'));
    };
    apply();
    this.timer = setInterval(apply, this.config.HEARTH_ARCHIVE_RETENTION_CHECK_SECONDS * 1_000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
