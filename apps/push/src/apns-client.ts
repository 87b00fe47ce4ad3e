import { readFileSync } from 'node:fs';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Notification, Provider, type ProviderOptions, type ResponseFailure } from '@parse/node-apn';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { PUSH_CONFIG, type PushConfig } from './config';
import type { ApnsOutcome } from './domain/delivery';
import type { ApnsRequestShape } from './domain/notification';
import type { Environment } from './domain/registration';

/** Where one notification goes: never logged (the token identifies a person's phone). */
export interface ApnsDestination {
  deviceToken: string;
  bundleId: string;
  environment: Environment;
}

/**
 * APNs over HTTP/2 through node-apn (@parse/node-apn, the maintained fork of `apn`): one
 * provider per environment (Apple's production and sandbox endpoints, or HEARTH_APNS_ENDPOINT
 * for both), token (.p8, ES256 JWT) or certificate authentication. node-apn's own retries are
 * off (connectionRetryLimit 0): the dispatcher decides retries, with backoff, and records them.
 */
@Injectable()
export class ApnsClient implements OnModuleDestroy {
  private readonly providers = new Map<Environment, Provider>();
  readonly configured: boolean;

  constructor(@Inject(PUSH_CONFIG) private readonly config: PushConfig, @Inject(SERVICE_LOGGER) private readonly logger: Logger) {
    this.configured = config.HEARTH_APNS_KEY_FILE !== undefined;
    if (!this.configured) {
      logger.warn('no APNs credentials (HEARTH_APNS_KEY_FILE ...): notifications are recorded as failed, none is sent');
    }
  }

  private provider(environment: Environment): Provider {
    let provider = this.providers.get(environment);
    if (provider) return provider;
    const c = this.config;
    const endpoint = c.HEARTH_APNS_ENDPOINT?.split(':');
    const options: ProviderOptions = {
      production: environment === 'production',
      ...(endpoint ? { address: endpoint[0]!, port: Number(endpoint[1]) } : {}),
      ...(c.HEARTH_APNS_CA_FILE ? { ca: [readFileSync(c.HEARTH_APNS_CA_FILE)] } : {}),
      connectionRetryLimit: 0,
      requestTimeout: c.HEARTH_APNS_REQUEST_TIMEOUT_MS,
      ...(c.HEARTH_APNS_CERT_FILE
        ? { cert: readFileSync(c.HEARTH_APNS_CERT_FILE), key: readFileSync(c.HEARTH_APNS_KEY_FILE!) }
        : { token: { key: readFileSync(c.HEARTH_APNS_KEY_FILE!), keyId: c.HEARTH_APNS_KEY_ID!, teamId: c.HEARTH_APNS_TEAM_ID! } }),
    };
    provider = new Provider(options);
    this.providers.set(environment, provider);
    this.logger.info({ environment, endpoint: c.HEARTH_APNS_ENDPOINT ?? 'apple', auth: c.HEARTH_APNS_CERT_FILE ? 'certificate' : 'token' }, 'APNs provider created');
    return provider;
  }

  async send(destination: ApnsDestination, request: ApnsRequestShape, apnsId: string, expiresAt: number): Promise<ApnsOutcome> {
    if (!this.configured) return { status: 0, reason: 'apns-not-configured' };
    const notification = new Notification();
    notification.rawPayload = request.payload;
    notification.topic = destination.bundleId;
    notification.pushType = request.pushType;
    notification.priority = request.priority;
    notification.id = apnsId;
    notification.expiry = expiresAt;
    if (request.collapseId !== undefined) notification.collapseId = request.collapseId;
    const result = await this.provider(destination.environment).send(notification, destination.deviceToken);
    if (result.sent.length > 0) return { status: 200 };
    const failure: ResponseFailure | undefined = result.failed[0];
    if (!failure) return { transportError: 'no result from the APNs client' };
    const status = failure.status as number | string | undefined;
    if (status === undefined) return { transportError: failure.error?.message ?? 'APNs connection failed' };
    return { status: typeof status === 'string' && /^\d+$/.test(status) ? Number(status) : status, ...(failure.response?.reason ? { reason: failure.response.reason } : {}) };
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.shutdown()));
  }
}
