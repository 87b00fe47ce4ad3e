import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  AccountDeleted, isCountable, isEvent, MessageAccepted, PubsubItemPublished, PushDeviceRegistered, PushDeviceUnregistered, SessionBound,
  SessionClosed, SessionHibernated, SessionResumed, topics, UnreadChanged, type Envelope, type PayloadOf,
} from '@hearth/contracts';
import { AppliedEvents, prismaProjectionDatabase, runProjection, type ConsumedEvent, type RunningProjection } from '@hearth/kafka';
import { Readiness, SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { PUSH_CONFIG, type PushConfig } from './config';
import { apnsIdOf } from './domain/name-based-id';
import { badgeContent, messageContent, pubsubContent, type ContentOptions, type PushContent } from './domain/notification';
import type { Prisma } from './generated/prisma/client';
import { PushDatabase } from './push-database';
import { PushDispatcher } from './push-dispatcher';
import { PushLog } from './push-log';

/** Consumer group and checkpoint owner. */
export const PROJECTION_NAME = 'push';
const INPUT_TOPICS = [topics.messages, topics.sessions, topics.pubsub, topics.readState, topics.push, topics.accounts];
/** Topics whose events cause notifications: history on them is not pushed again after a rebuild. */
const NOTIFYING_TOPICS = [topics.messages, topics.pubsub, topics.readState];
/** An UnreadChanged that came before its message is kept this long (by event time), then pruned. */
const EARLY_UNREAD_RETENTION = '1 hour';

type Tx = Prisma.TransactionClient;
type Payload<C> = PayloadOf<C>;
type MessageEvent = Envelope<'MessageAccepted', Payload<typeof MessageAccepted>>;
type UnreadEvent = Envelope<'UnreadChanged', Payload<typeof UnreadChanged>>;
/** A message and its position in its chat (the offset of its MessageAccepted in its partition). */
type PositionedMessage = { event: MessageEvent; position: bigint };
/** A known total of (user, chat) at a message of the chat: it settles the chat's waiting pushes up to there. */
type SettlingTotal = { user: string; peer: string; position: bigint; total: number };

/**
 * The push projection: devices, their sessions, each user's unread total, and the decisions to
 * notify (push_sends rows, sent later by PushDispatcher). Decisions are taken here, in the
 * transaction that records the offsets, so an event fans out once whatever is redelivered.
 *
 * Who gets a push: every registered device of the recipient that is not active. A device is
 * active while a session of its resource is bound and not hibernated (XEP-0198); a device with
 * no resource (an HTTP registration that named none) is never active. One push per device token
 * (two registrations of the same token share it).
 *
 * The badge of a message push: read-state announces the total that includes the message in an
 * UnreadChanged caused by it (causationId = the MessageAccepted id), on another topic, so it
 * may come before or after. After: it sets the row's badge and makes it due at once; if it does
 * not come within HEARTH_PUSH_BADGE_WAIT_MS the dispatcher uses the last known total + 1.
 * Before: it is kept in push_early_unreads and the message takes its total.
 *
 * Devices, sessions and badges are deterministic (a rebuild gives the same rows). The send log
 * is the record of effects and is not rebuilt: starting from nothing, the projection records the
 * notifying topics' end offsets and events below them are applied without notifying.
 */
@Injectable()
export class PushProjection implements OnApplicationBootstrap, OnModuleDestroy {
  private running?: RunningProjection;
  private boundaries = new Map<string, bigint>();
  private readonly content: ContentOptions;

  constructor(
    private readonly database: PushDatabase,
    private readonly log: PushLog,
    private readonly dispatcher: PushDispatcher,
    private readonly progress: AppliedEvents,
    private readonly readiness: Readiness,
    @Inject(PUSH_CONFIG) private readonly config: PushConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {
    this.content = { bodyMaxChars: config.HEARTH_PUSH_BODY_MAX_CHARS, hideBody: config.HEARTH_PUSH_HIDE_BODY };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('database', () => this.database.isReachable());
    this.readiness.register('consumer', () => this.running?.isJoined() ?? false);
    await this.log.ensureTopics(INPUT_TOPICS);
    this.boundaries = await this.replayBoundaries();
    this.running = await runProjection<Tx>({
      kafka: this.log.kafka,
      name: PROJECTION_NAME,
      topics: INPUT_TOPICS,
      database: prismaProjectionDatabase(this.database),
      logger: this.logger,
      sessionTimeoutMs: this.config.HEARTH_PUSH_CONSUMER_SESSION_TIMEOUT_MS,
      apply: (events, tx) => this.apply(events, tx),
      afterCommit: (events) => {
        this.progress.applied(events.map(({ event }) => event.id));
        this.dispatcher.wake();
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.running?.stop();
  }

  private async apply(events: ConsumedEvent[], tx: Tx): Promise<void> {
    // Runs of messages and runs of UnreadChanged (a batch of hearth.messages or hearth.read-state
    // is nothing else) are applied set-based: a few statements per batch instead of several per event.
    let messages: PositionedMessage[] = [];
    let unreads: { event: UnreadEvent; notify: boolean }[] = [];
    const flush = async () => {
      if (messages.length > 0) await this.applyMessages(messages, tx);
      if (unreads.length > 0) await this.applyUnreadChanges(unreads, tx);
      messages = [];
      unreads = [];
    };
    for (const consumed of events) {
      const { event } = consumed;
      const notify = !this.isReplayed(consumed);
      if (isEvent(event, MessageAccepted)) {
        if (unreads.length > 0) await flush();
        // Pushed: the messages that count as unread (one definition, in the contracts).
        if (notify && isCountable(event.payload)) messages.push({ event, position: consumed.offset });
        continue;
      }
      if (isEvent(event, UnreadChanged)) {
        if (messages.length > 0) await flush();
        unreads.push({ event, notify });
        continue;
      }
      await flush();
      if (isEvent(event, PubsubItemPublished)) await this.applyPubsubItem(event, notify, tx);
      else if (isEvent(event, SessionBound) || isEvent(event, SessionResumed)) await this.upsertSession(event.payload, 'bound', tx);
      else if (isEvent(event, SessionHibernated)) await this.upsertSession(event.payload, 'hibernated', tx);
      else if (isEvent(event, SessionClosed)) await tx.$executeRawUnsafe('DELETE FROM push_sessions WHERE session_id = $1', event.payload.sessionId);
      else if (isEvent(event, PushDeviceRegistered)) await this.applyRegistered(event, tx);
      else if (isEvent(event, PushDeviceUnregistered)) await this.applyUnregistered(event.payload, tx);
      else if (isEvent(event, AccountDeleted)) await this.applyAccountDeleted(event.payload.account, tx);
    }
    await flush();
  }

  /**
   * One push_sends row per inactive device of each message's recipient. The badge: read-state's
   * total if its UnreadChanged came first (push_early_unreads), else the row waits for it.
   * Two statements for the whole run: the inactive devices of all recipients, then one insert
   * that also takes the early totals; an early total also settles the chat's earlier waiting pushes.
   */
  private async applyMessages(positioned: PositionedMessage[], tx: Tx): Promise<void> {
    const messages = positioned.map((m) => m.event);
    const positions = new Map(positioned.map((m) => [m.event.id, m.position]));
    const recipients = [...new Set(messages.map((m) => m.payload.recipient))];
    const devices = await this.inactiveDevices(tx, recipients);
    const rows = messages.flatMap((event) => (devices.get(event.payload.recipient) ?? []).map((deviceId) => ({ event, deviceId })));
    const withoutDevice = messages.filter((event) => !devices.has(event.payload.recipient));
    if (withoutDevice.length > 0) {
      this.logger.debug({ eventIds: withoutDevice.map((e) => e.id) }, 'no push: the recipient has no inactive registered device');
    }
    const contents = new Map(messages.map((event) => [event.id, JSON.stringify(messageContent(event.payload, event.id, this.content))]));
    const taken = await tx.$queryRawUnsafe<{ user_jid: string; chat_peer: string; message_position: bigint; badge: number }[]>(
      `WITH incoming (cause_id, user_jid) AS (SELECT * FROM unnest($1::text[], $2::text[])),
       early AS (
         DELETE FROM push_early_unreads e USING incoming i WHERE e.cause_id = i.cause_id AND e.user_jid = i.user_jid
         RETURNING e.cause_id, e.user_jid, e.total),
       sends (event_id, user_jid, device_id, apns_id, content, source_at, chat_peer, message_position) AS (
         SELECT * FROM unnest($3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::jsonb[], $8::timestamptz[], $10::text[], $11::bigint[]))
       INSERT INTO push_sends (event_id, user_jid, device_id, apns_id, kind, content, badge, counts_as_unread, state, ready_at, source_at, chat_peer, message_position)
       SELECT s.event_id, s.user_jid, s.device_id, s.apns_id, 'message', s.content, e.total, true, 'pending',
         now() + CASE WHEN e.total IS NULL THEN $9 ELSE 0 END * interval '1 millisecond', s.source_at, s.chat_peer, s.message_position
       FROM sends s LEFT JOIN early e ON e.cause_id = s.event_id::text AND e.user_jid = s.user_jid
       ON CONFLICT DO NOTHING
       RETURNING user_jid, chat_peer, message_position, badge`,
      messages.map((e) => e.id), messages.map((e) => e.payload.recipient),
      rows.map((r) => r.event.id), rows.map((r) => r.event.payload.recipient), rows.map((r) => r.deviceId),
      rows.map((r) => apnsIdOf(r.event.id, r.event.payload.recipient, r.deviceId)), rows.map((r) => contents.get(r.event.id)!),
      rows.map((r) => r.event.payload.acceptedAt), this.config.HEARTH_PUSH_BADGE_WAIT_MS,
      rows.map((r) => r.event.payload.sender), rows.map((r) => positions.get(r.event.id)!.toString()));
    // The early totals taken (one per cause and device: the same total) settle the chat's earlier waiting pushes.
    await this.settleEarlierPushes(tx, taken.filter((r) => r.badge !== null)
      .map((r) => ({ user: r.user_jid, peer: r.chat_peer, position: BigInt(r.message_position), total: r.badge })));
  }

  /**
   * Read-state announces one UnreadChanged per (user, chat) per batch it applies, caused by the
   * chat's last countable message in it: the chat's earlier messages of that batch get none of
   * their own. Its total is the user's real total at its cause, which counts them too, so it is
   * their badge as well: it settles the user's pushes of that chat at or before the cause's
   * position that still wait for a badge (not a retry: its backoff stands). A push later in the
   * chat keeps waiting for its own. Where several totals reach a push, the nearest cause at or
   * after it wins (the total closest to its own).
   */
  private async settleEarlierPushes(tx: Tx, totals: readonly SettlingTotal[]): Promise<void> {
    if (totals.length === 0) return;
    await tx.$executeRawUnsafe(
      `WITH causes (user_jid, chat_peer, position, total) AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[])),
       settling AS (
         SELECT DISTINCT ON (s.event_id, s.user_jid, s.device_id) s.event_id, s.user_jid, s.device_id, c.total
         FROM push_sends s JOIN causes c ON s.user_jid = c.user_jid AND s.chat_peer = c.chat_peer AND s.message_position <= c.position
         WHERE s.kind = 'message' AND s.state = 'pending' AND s.badge IS NULL AND s.attempts = 0
         ORDER BY s.event_id, s.user_jid, s.device_id, c.position)
       UPDATE push_sends s SET badge = t.total, ready_at = now() FROM settling t
       WHERE s.event_id = t.event_id AND s.user_jid = t.user_jid AND s.device_id = t.device_id`,
      totals.map((t) => t.user), totals.map((t) => t.peer), totals.map((t) => t.position.toString()), totals.map((t) => t.total));
  }

  /**
   * UnreadChanged, in order: the latest total per user is the badge. `message-arrived` sets the
   * badge of the push its message caused and makes it due at once — or, if the message is not
   * applied yet, is kept in push_early_unreads for it. `pointer-moved` with a lower total than
   * before (read elsewhere) sends a badge update. Totals are followed in memory through the run,
   * then written with one statement per kind.
   */
  private async applyUnreadChanges(unreads: { event: UnreadEvent; notify: boolean }[], tx: Tx): Promise<void> {
    const users = [...new Set(unreads.map(({ event }) => event.payload.user))];
    const known = await tx.$queryRawUnsafe<{ user_jid: string; total: number }[]>(
      'SELECT user_jid, total FROM push_badges WHERE user_jid = ANY($1::text[]) FOR UPDATE', users);
    const totals = new Map(known.map((r) => [r.user_jid, r.total]));
    const arrived: UnreadEvent[] = [];
    const lowered: UnreadEvent[] = [];
    for (const { event, notify } of unreads) {
      const u = event.payload;
      const previous = totals.get(u.user);
      totals.set(u.user, u.total);
      if (!notify) continue;
      if (u.reason === 'message-arrived' && event.causationId) arrived.push(event);
      else if (u.reason === 'pointer-moved' && previous !== undefined && u.total < previous) lowered.push(event);
    }
    await tx.$executeRawUnsafe(
      `INSERT INTO push_badges (user_jid, total) SELECT * FROM unnest($1::text[], $2::int[])
       ON CONFLICT (user_jid) DO UPDATE SET total = EXCLUDED.total`, users, users.map((user) => totals.get(user)!));
    if (arrived.length > 0) {
      await tx.$executeRawUnsafe(
        `WITH arrived (cause_id, user_jid, total, occurred_at) AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[])),
         updated AS (
           UPDATE push_sends s SET badge = a.total, ready_at = now() FROM arrived a
           WHERE s.event_id = a.cause_id::uuid AND s.user_jid = a.user_jid AND s.state = 'pending'
           RETURNING s.event_id::text AS cause_id, s.user_jid)
         INSERT INTO push_early_unreads (cause_id, user_jid, total, occurred_at)
         SELECT a.cause_id, a.user_jid, a.total, a.occurred_at FROM arrived a
         WHERE NOT EXISTS (SELECT 1 FROM updated d WHERE d.cause_id = a.cause_id AND d.user_jid = a.user_jid)
           AND EXISTS (SELECT 1 FROM push_devices d WHERE d.user_jid = a.user_jid)
         ON CONFLICT DO NOTHING`,
        arrived.map((e) => e.causationId!), arrived.map((e) => e.payload.user), arrived.map((e) => e.payload.total), arrived.map((e) => e.occurredAt));
      // Where the cause is applied already, its position settles the chat's earlier waiting pushes too.
      const causes = await tx.$queryRawUnsafe<{ cause_id: string; user_jid: string; chat_peer: string; message_position: bigint }[]>(
        `SELECT DISTINCT s.event_id::text AS cause_id, s.user_jid, s.chat_peer, s.message_position FROM push_sends s
         JOIN unnest($1::uuid[], $2::text[]) AS a(cause_id, user_jid) ON s.event_id = a.cause_id AND s.user_jid = a.user_jid
         WHERE s.kind = 'message' AND s.message_position IS NOT NULL`,
        arrived.map((e) => e.causationId!), arrived.map((e) => e.payload.user));
      const totalOf = new Map(arrived.map((e) => [`${e.causationId} ${e.payload.user}`, e.payload.total]));
      await this.settleEarlierPushes(tx, causes.map((c) => ({
        user: c.user_jid, peer: c.chat_peer, position: BigInt(c.message_position), total: totalOf.get(`${c.cause_id} ${c.user_jid}`)!,
      })));
      await tx.$executeRawUnsafe(
        `DELETE FROM push_early_unreads WHERE occurred_at < $1::timestamptz - interval '${EARLY_UNREAD_RETENTION}'`, arrived.at(-1)!.occurredAt);
    }
    for (const event of lowered) {
      // Read elsewhere: the phone's badge follows by a silent badge update.
      await this.fanOut(tx, event.id, event.payload.user, badgeContent(), { badge: null, countsAsUnread: false, waitMs: 0, sourceAt: event.occurredAt });
    }
  }

  private async applyPubsubItem(event: Envelope<'PubsubItemPublished', Payload<typeof PubsubItemPublished>>, notify: boolean, tx: Tx): Promise<void> {
    if (!notify) return;
    const p = event.payload;
    const publisher = p.publisher.split('/')[0]!.toLowerCase();
    // One push per user whatever its subscriptions (the recipients list has one entry per JID);
    // never to the publisher itself (e.g. its own PEP nodes such as XEP-0490 MDS).
    const users = new Set(p.recipients.map((r) => r.jid.split('/')[0]!.toLowerCase()).filter((jid) => jid.includes('@') && jid !== publisher));
    const content = pubsubContent(p, event.id, this.content);
    for (const user of users) {
      await this.fanOut(tx, event.id, user, content, { badge: null, countsAsUnread: false, waitMs: 0, sourceAt: event.occurredAt });
    }
  }

  /** One push_sends row per inactive device of `user` (one per device token). */
  private async fanOut(
    tx: Tx, eventId: string, user: string, content: PushContent,
    options: { badge: number | null; countsAsUnread: boolean; waitMs: number; sourceAt: string },
  ): Promise<void> {
    const ids = (await this.inactiveDevices(tx, [user])).get(user) ?? [];
    if (ids.length === 0) {
      this.logger.debug({ eventId, user, kind: content.kind }, 'no push: the user has no inactive registered device');
      return;
    }
    if (content.kind === 'badge') {
      // Only the latest badge matters: older badge updates not yet sent are dropped.
      await tx.$executeRawUnsafe(
        `UPDATE push_sends SET state = 'superseded', finished_at = now() WHERE user_jid = $1 AND device_id = ANY($2::text[]) AND kind = 'badge' AND state = 'pending'`,
        user, ids);
    }
    await tx.$executeRawUnsafe(
      `INSERT INTO push_sends (event_id, user_jid, device_id, apns_id, kind, content, badge, counts_as_unread, state, ready_at, source_at)
       SELECT $1::uuid, $2, t.device_id, t.apns_id::uuid, $3, $4::jsonb, $5, $6, 'pending', now() + $7 * interval '1 millisecond', $8::timestamptz
       FROM unnest($9::text[], $10::text[]) AS t(device_id, apns_id)
       ON CONFLICT DO NOTHING`,
      eventId, user, content.kind, JSON.stringify(content), options.badge, options.countsAsUnread, options.waitMs, options.sourceAt,
      ids, ids.map((deviceId) => apnsIdOf(eventId, user, deviceId)));
  }

  /**
   * Each user's registered devices that are not active (no bound session of their resource; a
   * device without a resource is never active), one per device token (the latest registration).
   */
  private async inactiveDevices(tx: Tx, users: readonly string[]): Promise<Map<string, string[]>> {
    const rows = await tx.$queryRawUnsafe<{ user_jid: string; device_id: string }[]>(
      `SELECT DISTINCT ON (d.user_jid, d.device_token) d.user_jid, d.device_id FROM push_devices d
       WHERE d.user_jid = ANY($1::text[]) AND NOT (d.resource IS NOT NULL AND EXISTS (
         SELECT 1 FROM push_sessions s WHERE s.user_jid = d.user_jid AND s.resource = d.resource AND s.state = 'bound'))
       ORDER BY d.user_jid, d.device_token, d.registered_at DESC`, [...users]);
    const byUser = new Map<string, string[]>();
    for (const row of rows) byUser.set(row.user_jid, [...(byUser.get(row.user_jid) ?? []), row.device_id]);
    return byUser;
  }

  private async upsertSession(s: { sessionId: string; user: string; fullJid: string; gateway: string }, state: 'bound' | 'hibernated', tx: Tx): Promise<void> {
    await tx.$executeRawUnsafe(
      `INSERT INTO push_sessions (session_id, user_jid, resource, state, gateway) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (session_id) DO UPDATE SET user_jid = EXCLUDED.user_jid, resource = EXCLUDED.resource, state = EXCLUDED.state, gateway = EXCLUDED.gateway`,
      s.sessionId, s.user, s.fullJid.slice(s.fullJid.indexOf('/') + 1), state, s.gateway);
  }

  private async applyRegistered(event: Envelope<'PushDeviceRegistered', Payload<typeof PushDeviceRegistered>>, tx: Tx): Promise<void> {
    const d = event.payload;
    await tx.$executeRawUnsafe(
      `INSERT INTO push_devices (user_jid, device_id, registration_id, device_token, bundle_id, environment, resource, push_service, push_node, via, registered_at)
       VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11::timestamptz)
       ON CONFLICT (user_jid, device_id) DO UPDATE SET registration_id = EXCLUDED.registration_id, device_token = EXCLUDED.device_token,
         bundle_id = EXCLUDED.bundle_id, environment = EXCLUDED.environment, resource = EXCLUDED.resource, push_service = EXCLUDED.push_service,
         push_node = EXCLUDED.push_node, via = EXCLUDED.via, registered_at = EXCLUDED.registered_at`,
      d.user, d.deviceId, event.id, d.deviceToken.toLowerCase(), d.bundleId, d.environment, d.resource ?? null, d.pushService ?? null,
      d.pushNode ?? null, d.via ?? 'http', event.occurredAt);
  }

  private async applyUnregistered(u: Payload<typeof PushDeviceUnregistered>, tx: Tx): Promise<void> {
    // A rejection of an older registration (the device registered again since) removes nothing.
    const removed = await tx.$executeRawUnsafe(
      `DELETE FROM push_devices WHERE user_jid = $1 AND device_id = $2 AND ($3::uuid IS NULL OR registration_id = $3::uuid)`,
      u.user, u.deviceId, u.registrationId ?? null);
    if (removed > 0) {
      await tx.$executeRawUnsafe(
        `UPDATE push_sends SET state = 'cancelled', finished_at = now(), reason = $3 WHERE user_jid = $1 AND device_id = $2 AND state = 'pending'`,
        u.user, u.deviceId, `device unregistered (${u.reason})`);
    }
  }

  private async applyAccountDeleted(account: string, tx: Tx): Promise<void> {
    await tx.$executeRawUnsafe('DELETE FROM push_devices WHERE user_jid = $1', account);
    await tx.$executeRawUnsafe('DELETE FROM push_badges WHERE user_jid = $1', account);
    await tx.$executeRawUnsafe('DELETE FROM push_early_unreads WHERE user_jid = $1', account);
    await tx.$executeRawUnsafe(
      `UPDATE push_sends SET state = 'cancelled', finished_at = now(), reason = 'account deleted' WHERE user_jid = $1 AND state = 'pending'`, account);
  }

  private isReplayed(consumed: ConsumedEvent): boolean {
    const boundary = this.boundaries.get(`${consumed.topic}:${consumed.partition}`);
    return boundary !== undefined && consumed.offset < boundary;
  }

  /**
   * Starting from nothing (no checkpoint at all), records the notifying topics' end offsets:
   * what is below them is history, notified (or not) when it happened. A restart keeps them.
   */
  private async replayBoundaries(): Promise<Map<string, bigint>> {
    const started = await this.database.$queryRawUnsafe<unknown[]>('SELECT 1 FROM consumer_checkpoints WHERE consumer = $1 LIMIT 1', PROJECTION_NAME);
    if (started.length === 0) {
      const ends = await Promise.all(NOTIFYING_TOPICS.map(async (topic) => [topic, await this.log.endOffsets(topic)] as const));
      await this.database.$transaction(async (tx) => {
        await tx.$executeRawUnsafe('DELETE FROM push_replay_boundaries');
        for (const [topic, offsets] of ends) {
          for (const [partition, end] of offsets) {
            if (end > 0n) await tx.$executeRawUnsafe('INSERT INTO push_replay_boundaries (topic, partition, end_offset) VALUES ($1, $2, $3)', topic, partition, end);
          }
        }
      });
    }
    const rows = await this.database.$queryRawUnsafe<{ topic: string; partition: number; end_offset: bigint }[]>(
      'SELECT topic, partition, end_offset FROM push_replay_boundaries');
    const boundaries = new Map(rows.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.end_offset)] as const));
    if (boundaries.size > 0) this.logger.info({ boundaries: Object.fromEntries([...boundaries].map(([k, v]) => [k, v.toString()])) }, 'events below these offsets are history: applied without notifying');
    return boundaries;
  }
}
