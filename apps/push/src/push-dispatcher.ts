import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { createEvent, PushDeviceUnregistered } from '@hearth/contracts';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { ApnsClient } from './apns-client';
import { PUSH_CONFIG, type PushConfig } from './config';
import { decideDelivery, type DeliveryDecision, type RetryPolicy } from './domain/delivery';
import { nameBasedId } from './domain/name-based-id';
import { apnsRequest, badgeFor, type PushContent } from './domain/notification';
import type { Environment } from './domain/registration';
import { PushDatabase } from './push-database';
import { PushLog } from './push-log';

/** How often the dispatcher looks for due sends when nothing wakes it (retries, badge waits). */
const POLL_INTERVAL_MS = 200;

interface ClaimedSend {
  event_id: string;
  user_jid: string;
  device_id: string;
  apns_id: string;
  kind: string;
  content: PushContent;
  badge: number | null;
  counts_as_unread: boolean;
  attempts: number;
  source_at: Date;
}

interface Target {
  user_jid: string;
  device_id: string;
  device_token: string;
  bundle_id: string;
  environment: Environment;
  registration_id: string;
  total: number | null;
}

type Outcome = { send: ClaimedSend; state: 'sent' | 'pending' | 'failed' | 'unknown' | 'cancelled'; status: number | null; reason: string | null; delayMs: number };

const sentCounter = new Counter({ name: 'hearth_push_notifications_total', help: 'APNs notifications by kind and outcome', labelNames: ['kind', 'outcome'] });
const delayHistogram = new Histogram({
  name: 'hearth_push_delay_seconds', help: 'From the causing event (message accepted) to APNs accepting the notification',
  labelNames: ['kind'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
});

/**
 * Sends what the projection decided (push_sends rows), at most once per row:
 *
 * 1. claim: one statement, committed on its own, moves due `pending` rows to `attempting`;
 * 2. send each to APNs;
 * 3. record the outcome: `sent`, `failed`, `unknown`, or back to `pending` with a later
 *    `ready_at` for a retry (429, 5xx: APNs answered and did not take it).
 *
 * A crash between 1 and 3 leaves rows `attempting`; at the next start they become `unknown`
 * (they may or may not have reached Apple) and are never sent again. So a notification can be
 * lost in a crash, never shown twice. Assumes one push instance per database.
 */
@Injectable()
export class PushDispatcher implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly retry: RetryPolicy;
  private running?: Promise<void>;
  private wakeAgain = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly database: PushDatabase,
    private readonly apns: ApnsClient,
    private readonly log: PushLog,
    @Inject(PUSH_CONFIG) private readonly config: PushConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {
    this.retry = { maxAttempts: config.HEARTH_PUSH_RETRY_MAX_ATTEMPTS, baseDelayMs: config.HEARTH_PUSH_RETRY_BASE_MS, maxDelayMs: config.HEARTH_PUSH_RETRY_MAX_DELAY_MS };
  }

  /** Before anything is sent: what a previous run left in flight is settled as unknown, not resent. */
  async onModuleInit(): Promise<void> {
    const interrupted = await this.database.$executeRawUnsafe(
      `UPDATE push_sends SET state = 'unknown', finished_at = now(),
         reason = 'interrupted: the service stopped after claiming it and before recording the outcome'
       WHERE state = 'attempting'`);
    if (interrupted > 0) this.logger.warn({ interrupted }, 'notifications in flight at the last stop recorded as unknown (never resent: at most once)');
  }

  onApplicationBootstrap(): void {
    this.wake();
  }

  /** Called after each projection commit: new sends may be due. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.wakeAgain) this.wake();
      else this.timer = setTimeout(() => this.wake(), POLL_INTERVAL_MS);
    });
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.wakeAgain = false;
        while (!this.stopped && (await this.round()) > 0) { /* more may be due */ }
      } while (this.wakeAgain && !this.stopped);
    } catch (error) {
      this.logger.warn({ err: error }, 'dispatch round failed; retrying at the next poll');
    }
  }

  /** One claim–send–record round; returns how many sends it claimed. */
  private async round(): Promise<number> {
    const claimed = await this.database.$queryRawUnsafe<ClaimedSend[]>(
      `UPDATE push_sends s SET state = 'attempting', attempts = s.attempts + 1
       FROM (SELECT event_id, user_jid, device_id FROM push_sends WHERE state = 'pending' AND ready_at <= now()
             ORDER BY ready_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
       WHERE s.event_id = due.event_id AND s.user_jid = due.user_jid AND s.device_id = due.device_id
       RETURNING s.event_id::text, s.user_jid, s.device_id, s.apns_id::text, s.kind, s.content, s.badge, s.counts_as_unread, s.attempts, s.source_at`,
      this.config.HEARTH_PUSH_CONCURRENCY);
    if (claimed.length === 0) return 0;
    const targets = await this.database.$queryRawUnsafe<Target[]>(
      `SELECT d.user_jid, d.device_id, d.device_token, d.bundle_id, d.environment, d.registration_id::text, b.total
       FROM push_devices d JOIN unnest($1::text[], $2::text[]) AS c(user_jid, device_id) USING (user_jid, device_id)
       LEFT JOIN push_badges b ON b.user_jid = d.user_jid`,
      claimed.map((c) => c.user_jid), claimed.map((c) => c.device_id));
    const byDevice = new Map(targets.map((t) => [`${t.user_jid}\u0000${t.device_id}`, t]));
    const outcomes = await Promise.all(claimed.map((send) => this.deliver(send, byDevice.get(`${send.user_jid}\u0000${send.device_id}`))));
    await this.record(outcomes);
    return claimed.length;
  }

  private async deliver(send: ClaimedSend, target: Target | undefined): Promise<Outcome> {
    if (!target) return { send, state: 'cancelled', status: null, reason: 'the device was unregistered before the notification was sent', delayMs: 0 };
    const badge = badgeFor({ badge: send.badge, countsAsUnread: send.counts_as_unread }, target.total ?? 0);
    const request = apnsRequest(send.content, badge);
    const expiresAt = Math.floor(Date.now() / 1000) + this.config.HEARTH_PUSH_EXPIRATION_SECONDS;
    let decision: DeliveryDecision;
    let status: number | null = null;
    try {
      const outcome = await this.apns.send(
        { deviceToken: target.device_token, bundleId: target.bundle_id, environment: target.environment }, request, send.apns_id, expiresAt);
      status = typeof outcome.status === 'number' ? outcome.status : null;
      decision = decideDelivery(outcome, send.attempts, this.retry, Math.random());
    } catch (error) {
      decision = decideDelivery({ transportError: (error as Error).message }, send.attempts, this.retry, Math.random());
    }
    // Logged with the apns-id and device id; never the device token.
    const where = { eventId: send.event_id, user: send.user_jid, deviceId: send.device_id, apnsId: send.apns_id, kind: send.kind, attempt: send.attempts };
    sentCounter.inc({ kind: send.kind, outcome: decision.kind });
    switch (decision.kind) {
      case 'sent':
        this.logger.debug({ ...where, badge }, 'notification sent');
        return { send, state: 'sent', status, reason: null, delayMs: 0 };
      case 'retry':
        this.logger.info({ ...where, reason: decision.reason, retryInMs: decision.delayMs }, 'APNs refused for now; retrying with backoff');
        return { send, state: 'pending', status, reason: decision.reason, delayMs: decision.delayMs };
      case 'unregister':
        this.logger.warn({ ...where, reason: decision.detail }, 'APNs says the device token is no longer valid: unregistering the device');
        await this.unregister(send, target, decision.reason);
        return { send, state: 'failed', status, reason: decision.detail, delayMs: 0 };
      case 'failed':
      case 'unknown':
        this.logger.warn({ ...where, reason: decision.reason }, `notification ${decision.kind === 'failed' ? 'failed' : 'outcome unknown'}`);
        return { send, state: decision.kind, status, reason: decision.reason, delayMs: 0 };
    }
  }

  /** The registration APNs rejected is removed through the log (the projection applies it). */
  private async unregister(send: ClaimedSend, target: Target, reason: 'apns-unregistered' | 'apns-bad-token'): Promise<void> {
    const event = createEvent(PushDeviceUnregistered, { user: target.user_jid, deviceId: target.device_id, reason, registrationId: target.registration_id }, {
      key: target.user_jid, producer: 'push', causationId: send.event_id,
      // One id per rejected registration: several rejections append the same event, applied once.
      id: nameBasedId('PushDeviceUnregistered', target.registration_id),
    });
    try {
      await this.log.publish(event);
    } catch (error) {
      this.logger.warn({ err: error, user: target.user_jid, deviceId: target.device_id }, 'could not append PushDeviceUnregistered; the next rejection appends it again');
    }
  }

  private async record(outcomes: Outcome[]): Promise<void> {
    await this.database.$executeRawUnsafe(
      `UPDATE push_sends s SET state = o.state, status = o.status, reason = o.reason,
         ready_at = CASE WHEN o.state = 'pending' THEN now() + o.delay_ms * interval '1 millisecond' ELSE s.ready_at END,
         finished_at = CASE WHEN o.state = 'pending' THEN NULL ELSE now() END
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::float8[])
         AS o(event_id, user_jid, device_id, state, status, reason, delay_ms)
       WHERE s.event_id = o.event_id AND s.user_jid = o.user_jid AND s.device_id = o.device_id AND s.state = 'attempting'`,
      outcomes.map((o) => o.send.event_id), outcomes.map((o) => o.send.user_jid), outcomes.map((o) => o.send.device_id),
      outcomes.map((o) => o.state), outcomes.map((o) => o.status), outcomes.map((o) => o.reason), outcomes.map((o) => o.delayMs));
    const sentAt = Date.now();
    for (const { send, state } of outcomes) {
      if (state === 'sent') delayHistogram.observe({ kind: send.kind }, Math.max(0, sentAt - new Date(send.source_at).getTime()) / 1000);
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

