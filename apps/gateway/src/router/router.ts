import type { Logger } from '@hearth/runtime';
import type { AccountStore } from '../accounts/account-store';
import { endReasonOf, type Session, type SessionEndReason } from '../sessions/session';
import type { SessionRegistry } from '../sessions/session-registry';
import { C2SConnection, type ConnectionHost, type ConnectionLimits, type StreamStage } from '../stream/c2s-connection';
import { StanzaError, StreamError } from '../stream/errors';
import type { Transport } from '../transports/transport';
import { Element, xml } from '../xml/element';
import { Jid } from '../xml/jid';
import { NS } from '../xml/namespaces';

/** An IQ get/set the server answers itself, for the domain or on behalf of an account (RFC 6120 §10.3). */
export interface IqRequest {
  session: Session;
  /** The request, with `from` set to the session's full JID. */
  stanza: Element;
  /** The single child element that names the request. */
  payload: Element;
  /** The addressee: the server's domain, or an account's bare JID. */
  to: Jid;
  /**
   * 'server': addressed to the domain (or nothing); 'self': the sender's own account; 'account': another local account;
   * 'service': a service registered with `router.service` at its own domain (`to` is that domain).
   */
  target: 'server' | 'self' | 'account' | 'service';
}

/** Returns the result's payload (or nothing for an empty result); throws StanzaError to refuse. */
export type IqHandler = (request: IqRequest) => Promise<Element | void> | Element | void;
/** Sees a stanza from a session before default routing; returns true when it handled it. */
export type StanzaHook = (session: Session, stanza: Element, to: Jid | null) => Promise<boolean> | boolean;
export type NegotiationHandler = (connection: C2SConnection, element: Element) => Promise<void> | void;
export type FeatureProvider = (connection: C2SConnection) => Element | undefined;
export type SessionListener = (session: Session) => Promise<void> | void;
export type SessionEndedListener = (session: Session, reason: SessionEndReason) => Promise<void> | void;
/** Sees a session's stanza once its handling completed (hooks and handlers resolved), e.g. XEP-0198 §4 counting. */
export type StanzaHandledListener = (session: Session, stanza: Element) => void;
/** Asked when a bound session's connection is gone (see `closeCondition` for why); true keeps the session (XEP-0198 §5 hibernation). */
export type ConnectionLostListener = (session: Session, connection: C2SConnection) => boolean;

export interface RouterTimeouts {
  authTimeoutMs: number;
  pingAfterMs: number;
  pingTimeoutMs: number;
}

const STANZA_NAMES = new Set(['iq', 'message', 'presence']);
const SWEEP_INTERVAL_MS = 1_000;

/**
 * Dispatches everything a client sends: negotiation elements (STARTTLS, SASL, bind) by stage, and
 * stanzas from bound sessions to module hooks and IQ handlers. Modules register here and nowhere
 * else, as Prosody modules hook events; the router translates typed errors into XML replies.
 */
export class Router implements ConnectionHost {
  readonly connections = new Set<C2SConnection>();
  readonly discoFeatures = new Set<string>();
  /** Features of every account (its bare JID's disco#info), e.g. MAM and push (XEP-0313 §7, XEP-0357 §4). */
  readonly accountFeatures = new Set<string>();
  private readonly negotiationHandlers = new Map<string, NegotiationHandler>();
  private readonly iqHandlers = new Map<string, IqHandler>();
  /** Services at their own domain (`pubsub.<domain>`), as a component would be: domain → its IQ handler. */
  private readonly serviceHandlers = new Map<string, IqHandler>();
  private readonly hooks: Record<string, StanzaHook[]> = { iq: [], message: [], presence: [] };
  private readonly featureProviders: FeatureProvider[] = [];
  private readonly sessionEndedListeners: SessionEndedListener[] = [];
  private readonly sessionBoundListeners: SessionListener[] = [];
  private readonly stanzaHandledListeners: StanzaHandledListener[] = [];
  private readonly connectionLostListeners: ConnectionLostListener[] = [];
  private readonly shutdownListeners: Array<() => Promise<void> | void> = [];
  private sweeper: NodeJS.Timeout | null = null;
  private pingCounter = 0;

  constructor(
    readonly logger: Logger,
    readonly limits: ConnectionLimits,
    private readonly timeouts: RouterTimeouts,
    readonly domains: ReadonlySet<string>,
    readonly sessions: SessionRegistry,
    private readonly accounts: AccountStore,
  ) {}

  // Registration (the module API)

  /** A top-level element handled during a negotiation stage, e.g. `<starttls/>` or `<auth/>`. */
  negotiation(stage: Exclude<StreamStage, 'closed'>, ns: string, name: string, handler: NegotiationHandler): void {
    this.negotiationHandlers.set(`${stage} ${ns} ${name}`, handler);
  }

  iq(type: 'get' | 'set', ns: string, name: string, handler: IqHandler): void {
    const key = `${type} ${ns} ${name}`;
    if (this.iqHandlers.has(key)) throw new Error(`two modules handle iq ${key}`);
    this.iqHandlers.set(key, handler);
  }

  /**
   * A service addressed by its own domain, like a component (XEP-0060 §4.6.1 `pubsub.<domain>`):
   * every IQ get/set to that bare domain goes to `handler` with target 'service'.
   */
  service(domain: string, handler: IqHandler): void {
    const key = domain.toLowerCase();
    if (this.serviceHandlers.has(key)) throw new Error(`two modules serve ${key}`);
    this.serviceHandlers.set(key, handler);
  }

  /** The domains registered with `service`, for disco#items of the server (XEP-0030 §4). */
  serviceDomains(): string[] {
    return [...this.serviceHandlers.keys()];
  }

  hook(stanza: 'iq' | 'message' | 'presence', hook: StanzaHook): void {
    this.hooks[stanza]!.push(hook);
  }

  streamFeature(provider: FeatureProvider): void {
    this.featureProviders.push(provider);
  }

  discoFeature(...features: string[]): void {
    for (const feature of features) this.discoFeatures.add(feature);
  }

  accountFeature(...features: string[]): void {
    for (const feature of features) this.accountFeatures.add(feature);
  }

  onSessionEnded(listener: SessionEndedListener): void {
    this.sessionEndedListeners.push(listener);
  }

  onSessionBound(listener: SessionListener): void {
    this.sessionBoundListeners.push(listener);
  }

  onStanzaHandled(listener: StanzaHandledListener): void {
    this.stanzaHandledListeners.push(listener);
  }

  onConnectionLost(listener: ConnectionLostListener): void {
    this.connectionLostListeners.push(listener);
  }

  /** Runs after every stream was closed on shutdown, while the log still runs (e.g. last session events). */
  onShutdown(listener: () => Promise<void> | void): void {
    this.shutdownListeners.push(listener);
  }

  // Connections

  accept(transport: Transport): C2SConnection {
    const connection = new C2SConnection(transport, this);
    this.connections.add(connection);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
    return connection;
  }

  isLocalDomain(domain: string): boolean {
    return this.domains.has(domain);
  }

  features(connection: C2SConnection): Element[] {
    return this.featureProviders.map((provide) => provide(connection)).filter((f): f is Element => f !== undefined);
  }

  closed(connection: C2SConnection): void {
    this.connections.delete(connection);
    const session = connection.session;
    // A session resumed on another connection (XEP-0198 §5) no longer belongs to this one.
    if (!session || session.connection !== connection) return;
    if (this.connectionLostListeners.some((keep) => keep(session, connection))) return;
    if (this.sessions.remove(session)) void this.endSession(session, endReasonOf(connection.closeCondition));
  }

  /** A resource was bound (RFC 6120 §7): listeners record it (session events). */
  sessionBound(session: Session): void {
    for (const listener of this.sessionBoundListeners) {
      try {
        void listener(session);
      } catch (error) {
        this.logger.error({ err: error, jid: session.jid.toString() }, 'session-bound listener failed');
      }
    }
  }

  /** Runs the session-ended listeners (unavailable presence …) once for a session leaving. */
  /**
   * Ends a session from the server's side (its account was deleted): a connected one with a
   * stream error, a hibernated one (XEP-0198, no stream) at once, so it cannot be resumed.
   */
  disconnect(session: Session, error: StreamError): void {
    if (!session.hibernated) return session.connection.close(error);
    if (this.sessions.remove(session)) void this.endSession(session, 'kicked');
  }

  async endSession(session: Session, reason: SessionEndReason): Promise<void> {
    for (const listener of this.sessionEndedListeners) {
      try {
        await listener(session, reason);
      } catch (error) {
        this.logger.error({ err: error, jid: session.jid.toString() }, 'session-ended listener failed');
      }
    }
  }

  /** RFC 6120 §4.4: every stream is closed with system-shutdown when the server stops. */
  shutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const connection of this.connections) connection.close(new StreamError('system-shutdown'));
  }

  /** Completes shutdown once the streams are closed: the modules' shutdown listeners, in order. */
  async shutdownModules(): Promise<void> {
    for (const listener of this.shutdownListeners) {
      try {
        await listener();
      } catch (error) {
        this.logger.error({ err: error }, 'shutdown listener failed');
      }
    }
  }

  // Dispatch

  async element(connection: C2SConnection, element: Element): Promise<void> {
    const handler = this.negotiationHandlers.get(`${connection.stage} ${element.ns} ${element.name}`) ??
      (element.is('iq', NS.client) && element.elements().length === 1
        ? this.negotiationHandlers.get(`${connection.stage} ${element.elements()[0]!.ns} ${element.elements()[0]!.name}`)
        : undefined);
    if (handler) return handler(connection, element);
    const isStanza = element.ns === NS.client && STANZA_NAMES.has(element.name);
    // RFC 6120 §6.4.1 and §7.2.1: no stanzas before authentication and resource binding.
    if (connection.stage !== 'bound' || !connection.session) {
      throw new StreamError(isStanza ? 'not-authorized' : 'unsupported-stanza-type');
    }
    if (!isStanza) throw new StreamError('unsupported-stanza-type');
    const session = connection.session;
    await this.fromSession(session, element);
    for (const listener of this.stanzaHandledListeners) listener(session, element);
  }

  private async fromSession(session: Session, stanza: Element): Promise<void> {
    const rawTo = stanza.attr('to');
    const to = rawTo === undefined ? null : Jid.parse(rawTo);
    // RFC 6120 §8.1.2.1: the server stamps `from` with the session's full JID, always.
    const stamped = stanza.withAttrs({ from: session.jid.toString(), to: to?.toString() ?? rawTo });
    if (rawTo !== undefined && !to) return this.bounce(stamped, new StanzaError('jid-malformed'));
    for (const hook of this.hooks[stanza.name]!) if (await hook(session, stamped, to)) return;
    if (stanza.name === 'iq') return this.routeIq(session, stamped, to);
    if (stanza.name === 'message') return this.bounce(stamped, new StanzaError('service-unavailable'));
    // Presence nobody handled is ignored (RFC 6121 §4.3).
  }

  /**
   * RFC 6120 §8.2.3 and RFC 6121 §8.5: IQs to the server or an account are answered here; to a
   * full JID they go to that resource; anything else is refused with a stanza error.
   */
  private async routeIq(session: Session, iq: Element, to: Jid | null): Promise<void> {
    const type = iq.attr('type');
    if (!iq.attr('id') || !['get', 'set', 'result', 'error'].includes(type ?? '')) return this.bounce(iq, new StanzaError('bad-request'));
    const service = to && !to.local ? this.serviceHandlers.get(to.domain) : undefined;
    const local = !to || this.isLocalDomain(to.domain) || service !== undefined;
    if (!local) return this.bounce(iq, new StanzaError('remote-server-not-found'));
    const toSession = to && to.local && !to.isBare ? this.sessions.get(to) : undefined;
    if (toSession) return toSession.send(iq);
    if (type === 'result' || type === 'error') return; // responses to the server (pings) or to gone resources

    const payloads = iq.elements();
    if (payloads.length !== 1) return this.bounce(iq, new StanzaError('bad-request', 'an IQ request has exactly one child'));
    let target: IqRequest['target'] = 'server';
    let addressee = Jid.of('', to?.domain ?? session.jid.domain)!;
    if (to && to.local) {
      if (!to.isBare) return this.bounce(iq, new StanzaError('service-unavailable'));
      target = to.equals(session.jid.bare) ? 'self' : 'account';
      if (target === 'account' && !(await this.accounts.find(to.toString()))) return this.bounce(iq, new StanzaError('service-unavailable'));
      addressee = to;
    }
    if (service) {
      if (!to!.isBare) return this.bounce(iq, new StanzaError('service-unavailable'));
      target = 'service';
      addressee = to!;
    }
    const payload = payloads[0]!;
    const handler = service ?? this.iqHandlers.get(`${type} ${payload.ns} ${payload.name}`);
    if (!handler) return this.bounce(iq, new StanzaError('service-unavailable'));
    try {
      const result = await handler({ session, stanza: iq, payload, to: addressee, target });
      session.send(xml('iq', NS.client, { type: 'result', id: iq.attr('id'), from: to ? addressee.toString() : undefined, to: session.jid.toString() }, result ?? undefined));
    } catch (error) {
      if (!(error instanceof StanzaError)) {
        this.logger.error({ err: error, jid: session.jid.toString(), ns: payload.ns }, 'iq handler failed');
      }
      this.bounce(iq, error instanceof StanzaError ? error : new StanzaError('internal-server-error'));
    }
  }

  /**
   * Returns a stanza error to the sender (a local session), unless the stanza is itself an error
   * (RFC 6120 §8.3.1: never answer an error with an error).
   */
  bounce(stanza: Element, error: StanzaError): void {
    if (stanza.attr('type') === 'error') return;
    const from = stanza.attr('from');
    const sender = from ? this.sessions.get(from) : undefined;
    if (!sender) return;
    sender.send(error.replyTo(stanza, stanza.attr('to')));
  }

  /** Authentication and ping deadlines for every connection, in one timer rather than one per socket. */
  private sweep(): void {
    const now = Date.now();
    const { authTimeoutMs, pingAfterMs, pingTimeoutMs } = this.timeouts;
    for (const connection of this.connections) {
      if (connection.stage === 'closed') continue;
      if (connection.stage !== 'bound') {
        if (now - connection.createdAt > authTimeoutMs) connection.close(new StreamError('connection-timeout', 'no login in time'));
        continue;
      }
      if (connection.pingSentAt !== null) {
        if (now - connection.pingSentAt > pingTimeoutMs) connection.close(new StreamError('connection-timeout'));
      } else if (now - connection.lastReceivedAt > pingAfterMs && connection.session) {
        // XEP-0199 §4.2: server-to-client ping; any traffic from the client counts as the answer.
        connection.pingSentAt = now;
        // Through the session, so XEP-0198 counts it like every other stanza sent.
        connection.session.send(xml('iq', NS.client, { type: 'get', id: `c2s-ping-${++this.pingCounter}`, from: connection.session.jid.domain, to: connection.session.jid.toString() },
          xml('ping', NS.ping)));
      }
    }
  }
}
