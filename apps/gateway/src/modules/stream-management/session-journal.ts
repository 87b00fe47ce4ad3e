import {
  createEvent, SessionBound, SessionClosed, SessionHibernated, SessionOpened, SessionResumed, type Envelope,
} from '@hearth/contracts';
import type { Logger } from '@hearth/runtime';
import type { EventLog } from '../../log/event-log';
import type { Session, SessionEndReason } from '../../sessions/session';

/** Waits between attempts to append one session event (about half a minute in all), then it is given up and logged. */
export const SESSION_EVENT_RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 15_000] as const;

/**
 * Session events on the log (hearth.sessions, key = the user's bare JID): opened, bound,
 * hibernated, resumed, closed. The push service reads them to know which devices are active;
 * analysts replay them. Recording never blocks or fails a login: events are appended in the
 * background, one user's in order (the next waits for the previous one's acknowledgement, so one
 * partition keeps them in order), different users' concurrently (so they share batches), each
 * retried with backoff while the broker is slow or away, and logged when given up.
 */
export class SessionJournal {
  /** Per user, the tail of its chain of appends; removed once the chain is drained. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly log: EventLog | null,
    private readonly logger: Logger,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
  ) {}

  /** Opened and bound together: a session is recorded once it has a resource (RFC 6120 §7). */
  bound(session: Session): void {
    const transport = session.connection.transport.kind;
    this.record(session, (fields) => createEvent(SessionOpened, { ...fields, transport }, this.meta(session)));
    this.record(session, (fields) => createEvent(SessionBound, fields, this.meta(session)));
  }

  hibernated(session: Session, resumableForSeconds: number): void {
    this.record(session, (fields) => createEvent(SessionHibernated, { ...fields, resumableForSeconds }, this.meta(session)));
  }

  resumed(session: Session): void {
    this.record(session, (fields) => createEvent(SessionResumed, fields, this.meta(session)));
  }

  closed(session: Session, reason: SessionEndReason): void {
    this.record(session, (fields) => createEvent(SessionClosed, { ...fields, reason }, this.meta(session)));
  }

  /** Waits (at most `timeoutMs`) for every event recorded so far to be appended or given up. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = Promise.all([...this.chains.values()]).then(() => true);
    const drained = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (!drained) this.logger.warn({ users: this.chains.size }, 'session events not yet appended at shutdown');
    return drained;
  }

  private meta(session: Session) {
    return { key: session.jid.bare.toString(), producer: 'gateway' };
  }

  private record(session: Session, build: (fields: { user: string; fullJid: string; sessionId: string; gateway: string }) => Envelope): void {
    if (!this.log) return;
    const log = this.log;
    let event: Envelope;
    try {
      event = build({ user: session.jid.bare.toString(), fullJid: session.jid.toString(), sessionId: session.id, gateway: log.instanceId });
    } catch (error) {
      this.logger.error({ err: error, jid: session.jid.toString() }, 'session event violates its contract: not recorded');
      return;
    }
    const key = event.key;
    const tail = (this.chains.get(key) ?? Promise.resolve()).then(() => this.append(log, event));
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
  }

  private async append(log: EventLog, event: Envelope): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await log.append(event);
        return;
      } catch (error) {
        const delay = SESSION_EVENT_RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          this.logger.error({ err: error, type: event.type, id: event.id, key: event.key, attempts: attempt + 1 }, 'session event not appended: given up');
          return;
        }
        this.logger.warn({ err: error, type: event.type, id: event.id, key: event.key, retryInMs: delay }, 'session event not appended yet: retrying');
        await this.sleep(delay);
      }
    }
  }
}
