import { Inject, Injectable } from '@nestjs/common';
import { createEvent, PushDeviceRegistered, PushDeviceUnregistered, type Envelope } from '@hearth/contracts';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { PUSH_CONFIG, type PushConfig } from './config';
import {
  checkUser, decideDisable, decideEnable, decideRegister, type EnablePush, type KnownRegistration, type RegisterDevice,
} from './domain/registration';
import { PushError } from './domain/push.errors';
import { PushDatabase } from './push-database';
import { PushLog } from './push-log';
import { AppliedEvents } from '@hearth/kafka';

/** A registration as the HTTP API shows it: never the whole device token. */
export interface DeviceView {
  deviceId: string;
  bundleId: string;
  environment: string;
  resource: string | null;
  pushService: string | null;
  pushNode: string | null;
  via: string;
  registeredAt: string;
  /** The token's last 8 hex digits, enough to tell devices apart. */
  tokenSuffix: string;
}

/**
 * Registration commands (XEP-0357 over gRPC, the product backend over HTTP): checked against the
 * current registrations, appended as events, acknowledged once in the log and, within
 * HEARTH_PUSH_CATCH_UP_TIMEOUT_MS, applied by the projection (so the next push sees them).
 */
@Injectable()
export class PushRegistrations {
  constructor(
    private readonly database: PushDatabase,
    private readonly log: PushLog,
    private readonly progress: AppliedEvents,
    @Inject(PUSH_CONFIG) private readonly config: PushConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async enable(command: EnablePush): Promise<{ deviceId: string; eventId: string }> {
    const registered = decideEnable(command, this.config.HEARTH_DOMAINS);
    const event = createEvent(PushDeviceRegistered, registered, { key: registered.user, producer: 'push' });
    await this.append([event]);
    this.logger.info({ user: registered.user, deviceId: registered.deviceId, resource: registered.resource, via: 'xep-0357' }, 'push enabled');
    return { deviceId: registered.deviceId, eventId: event.id };
  }

  async disable(command: { actor: string; service: string; node?: string }): Promise<number> {
    const user = command.actor.split('/')[0]!.toLowerCase();
    const events = decideDisable(command, await this.registrationsOf(user), this.config.HEARTH_DOMAINS)
      .map((u) => createEvent(PushDeviceUnregistered, u, { key: u.user, producer: 'push' }));
    await this.append(events);
    this.logger.info({ user, removed: events.length, via: 'xep-0357' }, 'push disabled');
    return events.length;
  }

  async register(command: RegisterDevice): Promise<{ deviceId: string; registrationId: string }> {
    const registered = decideRegister(command, this.config.HEARTH_DOMAINS);
    const event = createEvent(PushDeviceRegistered, registered, { key: registered.user, producer: 'push' });
    await this.append([event]);
    this.logger.info({ user: registered.user, deviceId: registered.deviceId, via: 'http' }, 'device registered');
    return { deviceId: registered.deviceId, registrationId: event.id };
  }

  async remove(userJid: string, deviceId: string): Promise<void> {
    const user = checkUser(userJid, this.config.HEARTH_DOMAINS);
    if (!(await this.registrationsOf(user)).some((r) => r.deviceId === deviceId)) {
      throw new PushError('item-not-found', `${user} has no device ${deviceId}`);
    }
    await this.append([createEvent(PushDeviceUnregistered, { user, deviceId, reason: 'backend-removed' }, { key: user, producer: 'push' })]);
    this.logger.info({ user, deviceId, via: 'http' }, 'device removed');
  }

  async devices(userJid: string): Promise<DeviceView[]> {
    const user = checkUser(userJid, this.config.HEARTH_DOMAINS);
    const rows = await this.database.$queryRawUnsafe<{
      device_id: string; bundle_id: string; environment: string; resource: string | null; push_service: string | null;
      push_node: string | null; via: string; registered_at: Date; token_suffix: string;
    }[]>(
      `SELECT device_id, bundle_id, environment, resource, push_service, push_node, via, registered_at, right(device_token, 8) AS token_suffix
       FROM push_devices WHERE user_jid = $1 ORDER BY registered_at, device_id`, user);
    return rows.map((r) => ({
      deviceId: r.device_id, bundleId: r.bundle_id, environment: r.environment, resource: r.resource, pushService: r.push_service,
      pushNode: r.push_node, via: r.via, registeredAt: r.registered_at.toISOString(), tokenSuffix: r.token_suffix,
    }));
  }

  private async registrationsOf(user: string): Promise<KnownRegistration[]> {
    const rows = await this.database.$queryRawUnsafe<{ device_id: string; push_service: string | null; push_node: string | null }[]>(
      'SELECT device_id, push_service, push_node FROM push_devices WHERE user_jid = $1', user);
    return rows.map((r) => ({ deviceId: r.device_id, pushService: r.push_service, pushNode: r.push_node }));
  }

  private async append(events: Envelope[]): Promise<void> {
    if (events.length === 0) return;
    const applied = this.progress.waitFor(events.map((e) => e.id), this.config.HEARTH_PUSH_CATCH_UP_TIMEOUT_MS);
    try {
      await this.log.publish(events);
    } catch (error) {
      this.logger.error({ err: error }, 'the log refused the registration event');
      throw new PushError('service-unavailable', 'the event log is unavailable; retry');
    }
    await applied;
  }
}
