import { setTimeout as delay } from 'node:timers/promises';
import { chatKeyOf, ContractViolation, createEvent, MessageAccepted, newStanzaId } from '@hearth/contracts';
import type { Logger } from '@hearth/runtime';
import type { AccountStore } from '../../accounts/account-store';
import { LogUnavailableError, type EventLog } from '../../log/event-log';
import type { Router } from '../../router/router';
import type { Session } from '../../sessions/session';
import type { SessionRegistry } from '../../sessions/session-registry';
import { StanzaError } from '../../stream/errors';
import { Element } from '../../xml/element';
import type { Jid } from '../../xml/jid';
import { Batcher, BoundedMap } from './batcher';
import type { ClaimOutcome, DedupeClaim, DedupeKey, MessageDedupeStore } from './dedupe-store';
import { MessageRateLimiter } from './rate-limiter';
import { clientMessageIdOf, stanzaIdElement, withoutLocalStanzaIds } from './stanza-ids';

/** An account seen to exist is trusted this long before it is looked up again (a deleted one may get messages that long). */
const ACCOUNT_CACHE_MS = 60_000;
const ACCOUNT_CACHE_SIZE = 50_000;
/** Dedupe keys this gateway confirmed recently: a resend here is answered without a database round trip. */
const RECENT_KEYS = 50_000;
/** Most claims or confirmations in one SQL statement. */
const DEDUPE_MAX_BATCH = 1_000;
/** How often an unconfirmed dedupe key is read again, and the margin past its append timeout (clocks of two gateways). */
const UNCONFIRMED_RECHECK_MS = 20;
const UNCONFIRMED_SLACK_MS = 1_000;

type MessageType = 'chat' | 'normal' | 'headline';
type DedupeOperation = { kind: 'claim'; claim: DedupeClaim } | { kind: 'confirm'; key: DedupeKey };

export interface AcceptanceOptions {
  router: Router;
  sessions: SessionRegistry;
  accounts: AccountStore;
  log: EventLog;
  dedupe: MessageDedupeStore;
  logger: Logger;
  ratePerSec: number;
  burst: number;
  /** Claims arriving within this window share one statement (the log's append linger). */
  lingerMs: number;
  /** The log's append timeout (HEARTH_GATEWAY_APPEND_TIMEOUT_MS): an attempt older than this no longer succeeds. */
  appendTimeoutMs: number;
}

/**
 * Acceptance of a message from a session (issue #5): validated, given a XEP-0359 stanza id,
 * appended as MessageAccepted (acks = -1), and only then done: `handle` resolves after the append
 * or after the refusal was sent, so XEP-0198 `h` counts only messages in the log.
 */
export class MessageAcceptance {
  private readonly limiter: MessageRateLimiter<Session>;
  private readonly knownAccounts = new BoundedMap<string, number>(ACCOUNT_CACHE_SIZE);
  private readonly recentKeys = new BoundedMap<string, true>(RECENT_KEYS);
  /** Dedupe keys whose append failed here (the client was told to retry): a resend appends again at once. */
  private readonly failedKeys = new BoundedMap<string, true>(RECENT_KEYS);
  /** Dedupe keys being accepted on this gateway right now: a resend waits for the first attempt. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Claims and confirmations share one batch: one statement and one commit for both. */
  private readonly dedupe: Batcher<DedupeOperation, ClaimOutcome | undefined>;

  constructor(private readonly options: AcceptanceOptions) {
    this.limiter = new MessageRateLimiter(options.ratePerSec, options.burst);
    this.dedupe = new Batcher(async (operations) => {
      const claims = operations.flatMap((o) => (o.kind === 'claim' ? [o.claim] : []));
      const outcomes = await options.dedupe.claim(claims, operations.flatMap((o) => (o.kind === 'confirm' ? [o.key] : [])));
      let next = 0;
      return operations.map((o) => (o.kind === 'claim' ? outcomes[next++] : undefined));
    }, options.lingerMs, DEDUPE_MAX_BATCH);
  }

  /** The message hook: returns true when the message was this module's (accepted or refused). */
  async handle(session: Session, stanza: Element, addressed: Jid | null): Promise<boolean> {
    const { router } = this.options;
    // RFC 6120 §10.3.1 / RFC 6121 §8.5: no `to` means the sender's own bare JID.
    const to = addressed ?? session.jid.bare;
    if (router.serviceDomains().includes(to.domain)) return false; // a service's own module answers
    const type = stanza.attr('type') ?? 'normal';
    if (type === 'error') return this.relayError(stanza, to);
    // RFC 6120 §10.4: no server-to-server connections.
    if (!router.isLocalDomain(to.domain)) return this.refuse(stanza, new StanzaError('remote-server-not-found'));
    // RFC 6121 §8.5.1 / RFC 6120 §10.3: the server itself handles no messages.
    if (!to.local) return this.refuse(stanza, new StanzaError('service-unavailable'));
    // RFC 6121 §8.5.2.1.1: groupchat to a user is refused (there are no rooms here).
    if (type === 'groupchat') return this.refuse(stanza, new StanzaError('service-unavailable', 'groupchat messages go to a room'));
    if (type !== 'chat' && type !== 'normal' && type !== 'headline') return this.refuse(stanza, new StanzaError('bad-request', `unknown message type ${type}`));
    if (!this.limiter.take(session)) {
      return this.refuse(stanza, new StanzaError('policy-violation', 'too many messages: slow down'));
    }
    // RFC 6121 §8.5.2.2.1 / §8.5.3.2.3: no such account.
    if (!(await this.accountExists(to.bare.toString()))) return this.refuse(stanza, new StanzaError('service-unavailable'));

    const clean = withoutLocalStanzaIds(stanza, (domain) => router.isLocalDomain(domain));
    const sender = session.jid.bare.toString();
    const clientId = clientMessageIdOf(stanza);
    try {
      if (clientId === undefined) await this.append(session, clean, to, type, undefined, newStanzaId(), new Date());
      else await this.acceptOnce(session, clean, to, type, { sender, clientId });
    } catch (error) {
      return this.refuse(stanza, this.toStanzaError(error, session));
    }
    return true;
  }

  /** Idempotent acceptance keyed by (sender, client id); see dedupe-store.ts for the design. */
  private async acceptOnce(session: Session, stanza: Element, to: Jid, type: MessageType, key: DedupeKey): Promise<void> {
    const mapKey = `${key.sender}\n${key.clientId}`;
    for (let running = this.inFlight.get(mapKey); running; running = this.inFlight.get(mapKey)) await running.catch(() => undefined);
    if (this.recentKeys.has(mapKey)) return this.duplicate(session, key);
    const attempt = (async () => {
      const stanzaId = newStanzaId();
      const acceptedAt = new Date();
      let outcome = await this.claim({ ...key, stanzaId, acceptedAt });
      // An attempt that failed on this gateway is known to be over: no need to wait for it.
      if (outcome.kind === 'unconfirmed' && !this.failedKeys.has(mapKey)) outcome = await this.settled({ ...key, stanzaId, acceptedAt }, outcome);
      if (outcome.kind === 'duplicate') {
        this.recentKeys.set(mapKey, true);
        return this.duplicate(session, key);
      }
      // 'unconfirmed': an earlier attempt recorded the key but its append was never confirmed;
      // appending again with the same stanza id and time cannot create a second message.
      const [id, at] = outcome.kind === 'new' ? [stanzaId, acceptedAt] : [outcome.stanzaId, outcome.acceptedAt];
      if (outcome.kind === 'unconfirmed') this.options.logger.info({ jid: session.jid.toString(), stanzaId: id }, 'resend of an unconfirmed message: appending again with its stanza id');
      try {
        await this.append(session, stanza, to, type, key.clientId, id, at);
      } catch (error) {
        this.failedKeys.set(mapKey, true);
        throw error;
      }
      this.failedKeys.delete(mapKey);
      this.recentKeys.set(mapKey, true);
      this.dedupe.submit({ kind: 'confirm', key }).catch((error: unknown) => {
        // Still safe: the key stays unconfirmed, so a resend appends the same stanza id again.
        this.options.logger.warn({ err: error, jid: key.sender }, 'could not confirm a dedupe key');
      });
    })();
    this.inFlight.set(mapKey, attempt);
    try {
      await attempt;
    } finally {
      this.inFlight.delete(mapKey);
    }
  }

  private async claim(claim: DedupeClaim): Promise<ClaimOutcome> {
    return (await this.dedupe.submit({ kind: 'claim', claim }))!;
  }

  /**
   * An unconfirmed key is not necessarily a failed attempt: the first attempt may still be on its
   * way on another gateway, or appended with its confirmation a few milliseconds behind (a
   * recipient can see the message and the client resend through another gateway before that).
   * So the key is read again until it is confirmed (a duplicate) or its attempt can no longer
   * succeed (its append would have timed out); only then is the message appended again.
   */
  private async settled(claim: DedupeClaim, first: ClaimOutcome & { kind: 'unconfirmed' }): Promise<ClaimOutcome> {
    const deadline = first.acceptedAt.getTime() + this.options.appendTimeoutMs + UNCONFIRMED_SLACK_MS;
    let outcome: ClaimOutcome = first;
    while (outcome.kind === 'unconfirmed' && Date.now() < deadline) {
      await delay(UNCONFIRMED_RECHECK_MS);
      outcome = await this.claim(claim);
    }
    return outcome;
  }

  /**
   * A resend of a message already in the log: answered as the original was. A chat message is
   * answered with nothing (XMPP acknowledges by silence; XEP-0198 counts it as handled), and the
   * stanza id the sender's devices and archive know is the original's.
   */
  private duplicate(session: Session, key: DedupeKey): void {
    this.options.logger.debug({ jid: session.jid.toString(), clientId: key.clientId }, 'duplicate message: already accepted, not stored or delivered again');
  }

  private async append(session: Session, stanza: Element, to: Jid, type: MessageType, clientId: string | undefined, stanzaId: string, acceptedAt: Date): Promise<void> {
    const sender = session.jid.bare.toString();
    const recipient = to.bare.toString();
    // XEP-0359 §3.2 / XEP-0313 §3.2: stamped by the recipient's archive; the sender's copies are re-stamped at delivery.
    const stamped = new Element(stanza.name, stanza.ns, { ...stanza.attrs });
    stamped.children.push(...stanza.children, stanzaIdElement(recipient, stanzaId));
    const body = stanza.childText('body');
    const event = createEvent(MessageAccepted, {
      stanzaId,
      chatKey: chatKeyOf(sender, recipient),
      sender,
      senderFullJid: session.jid.toString(),
      recipient,
      to: to.toString(),
      messageType: type,
      ...(clientId === undefined ? {} : { clientMessageId: clientId }),
      ...(body === undefined ? {} : { body }),
      stanza: stamped.toString(''),
      acceptedAt: acceptedAt.toISOString(),
      gateway: this.options.log.instanceId,
    }, { key: chatKeyOf(sender, recipient), producer: 'gateway', id: stanzaId, occurredAt: acceptedAt });
    await this.options.log.append(event);
  }

  private async accountExists(jid: string): Promise<boolean> {
    const now = Date.now();
    if ((this.knownAccounts.get(jid) ?? 0) > now || this.options.sessions.resources(jid).length > 0) return true;
    const exists = (await this.options.accounts.find(jid)) !== null;
    if (exists) this.knownAccounts.set(jid, now + ACCOUNT_CACHE_MS);
    return exists;
  }

  /**
   * An error reply from a client to a message it got (RFC 6120 §8.3): not a message to accept
   * (MessageAccepted has no error type); passed to the resource it names when that is here.
   */
  private relayError(stanza: Element, to: Jid): true {
    const target = to.isBare ? undefined : this.options.sessions.get(to);
    target?.send(stanza);
    return true;
  }

  private toStanzaError(error: unknown, session: Session): StanzaError {
    if (error instanceof StanzaError) return error;
    if (error instanceof ContractViolation) return new StanzaError('bad-request', error.reason);
    if (error instanceof LogUnavailableError) {
      this.options.logger.warn({ jid: session.jid.toString(), reason: error.message }, 'message not accepted: the log is unavailable');
    } else {
      this.options.logger.error({ err: error, jid: session.jid.toString() }, 'message not accepted: dedupe store or log failed');
    }
    // Nothing was acknowledged: the client may resend; the dedupe key keeps the resend one message.
    return new StanzaError('resource-constraint', 'the message could not be stored now; try again');
  }

  private refuse(stanza: Element, error: StanzaError): true {
    this.options.router.bounce(stanza, error);
    return true;
  }
}
