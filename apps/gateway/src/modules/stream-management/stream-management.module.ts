import { randomBytes } from 'node:crypto';
import type { C2SConnection } from '../../stream/c2s-connection';
import { StanzaError, StreamError } from '../../stream/errors';
import type { Session, SessionEndReason } from '../../sessions/session';
import { xml, type Element } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import type { GatewayModule } from '../module';
import { SessionJournal } from './session-journal';
import { parseH, StreamState } from './stream-state';

/** How long shutdown waits for the last session events (SessionClosed shutdown) to be appended. */
const SHUTDOWN_DRAIN_MS = 3_000;

/** `<failed/>` with a stanza error condition (XEP-0198 §3, §5). */
function failed(condition: 'unexpected-request' | 'item-not-found' | 'bad-request', h?: number): Element {
  return xml('failed', NS.sm, { h: h === undefined ? undefined : String(h) }, xml(condition, NS.stanzas));
}

/**
 * XEP-0198 Stream Management, server side, and the session events on the log.
 *
 * - §3 enable: offered as a stream feature beside bind; `<enable/>` is accepted once the resource
 *   is bound, `<enabled id resume max/>` answers (max = the client's wish, at most
 *   HEARTH_GATEWAY_SM_RESUME_SECONDS).
 * - §4 acks: `h` for the client's stanzas counts a stanza only once the router's handling of it
 *   completed (`router.onStanzaHandled`); for a message that is after its event was appended to
 *   the log, so an `<a h/>` never acknowledges what a crash could lose. Stanzas sent to the client
 *   are counted and kept until acknowledged (at most HEARTH_GATEWAY_SM_MAX_UNACKED); the server
 *   asks with `<r/>` after HEARTH_GATEWAY_SM_REQUEST_EVERY of them or HEARTH_GATEWAY_SM_REQUEST_AFTER_MS.
 * - §5 resumption: when a resumable session's connection drops (or times out), the session is
 *   hibernated: still registered and addressable, its presence unchanged, what is sent to it
 *   queued, never pinged (XEP-0199). `<resume previd h/>` within the window moves it to the new
 *   stream and redelivers the unacknowledged stanzas. The state lives in this process only: a
 *   resumption id another gateway issued (or one that expired) gets `<failed><item-not-found/>`
 *   and the client binds a new session, then syncs from the archive (XEP-0313).
 * - §4 on a session that ends with stanzas unacknowledged: IQ requests are answered with
 *   service-unavailable; messages are dropped with a log line (the archive has every one of them,
 *   and clients sync from it); presence is dropped.
 */
export const streamManagementModule: GatewayModule = {
  name: 'stream-management',
  spec: 'https://xmpp.org/extensions/xep-0198.html',
  setup({ router, sessions, config, logger, log }) {
    const journal = new SessionJournal(config.HEARTH_KAFKA_BROKERS.length > 0 ? log : null, logger);
    const states = new WeakMap<Session, StreamState>();
    /** Resumption id → session, for resumable sessions of this process. */
    const resumable = new Map<string, Session>();
    const maxUnacked = config.HEARTH_GATEWAY_SM_MAX_UNACKED;

    router.streamFeature((connection) => (connection.stage === 'authenticated' ? xml('sm', NS.sm) : undefined));

    // §3: enabling before binding a resource is refused (it would count nothing anyone can resume).
    for (const stage of ['negotiating', 'authenticated'] as const) {
      router.negotiation(stage, NS.sm, 'enable', (connection) => connection.send(failed('unexpected-request')));
    }
    router.negotiation('bound', NS.sm, 'enable', (connection, element) => {
      const session = connection.session!;
      if (states.has(session)) return connection.send(failed('unexpected-request'));
      const wantsResume = element.attr('resume') === 'true' || element.attr('resume') === '1';
      const requested = parseH(element.attr('max'));
      const limit = config.HEARTH_GATEWAY_SM_RESUME_SECONDS;
      const seconds = wantsResume ? (requested ? Math.min(requested, limit) : limit) : 0;
      const state = new StreamState(randomBytes(18).toString('base64url'), seconds);
      states.set(session, state);
      if (state.resumable) resumable.set(state.id, session);
      session.outbound = (stanza) => sent(session, state, stanza);
      connection.send(xml('enabled', NS.sm, state.resumable
        ? { id: state.id, resume: 'true', max: String(seconds) }
        : { id: state.id }));
      logger.debug({ jid: session.jid.toString(), resumeSeconds: seconds }, 'stream management enabled');
    });

    // §4: answer a request with the count of handled stanzas. Elements are handled in order, so
    // every stanza the client sent before this `<r/>` has completed by now.
    router.negotiation('bound', NS.sm, 'r', (connection) => {
      const state = states.get(connection.session!);
      if (!state) return connection.send(failed('unexpected-request'));
      connection.send(xml('a', NS.sm, { h: String(state.handled) }));
    });

    router.negotiation('bound', NS.sm, 'a', (connection, element) => {
      const state = states.get(connection.session!);
      if (!state) return connection.send(failed('unexpected-request'));
      acknowledge(connection, state, element.attr('h'));
    });

    router.negotiation('authenticated', NS.sm, 'resume', (connection, element) => {
      const previd = element.attr('previd') ?? '';
      const session = resumable.get(previd);
      const state = session && states.get(session);
      if (!session || !state || !session.jid.bare.equals(connection.account)) {
        logger.info({ account: connection.account?.toString(), previd }, 'resumption refused: the id is unknown to this gateway (expired, or issued by another gateway); the client binds a new session');
        return connection.send(failed('item-not-found'));
      }
      if (!acknowledge(connection, state, element.attr('h'))) return;
      state.clearTimers();
      const previous = session.connection;
      if (previous !== connection && previous.stage !== 'closed') {
        // The old stream may still look alive (the client noticed the break first): it no longer carries the session.
        previous.session = null;
        previous.close(new StreamError('conflict', 'the session was resumed on another stream'));
      }
      session.connection = connection;
      session.hibernated = false;
      connection.session = session;
      connection.stage = 'bound';
      connection.send(xml('resumed', NS.sm, { previd, h: String(state.handled) }));
      // §5: everything the client did not acknowledge is sent again, still counted once.
      for (const stanza of state.unacked) connection.send(stanza);
      if (state.unacked.length > 0) requestAck(session, state);
      journal.resumed(session);
      logger.info({ jid: session.jid.toString(), redelivered: state.unacked.length }, 'session resumed');
    });

    router.onStanzaHandled((session) => states.get(session)?.countHandled());

    router.onSessionBound((session) => journal.bound(session));

    // §5: a resumable session outlives a connection that dropped or timed out (not a clean close,
    // not a stream error the server sent: those end it).
    router.onConnectionLost((session, connection) => {
      const state = states.get(session);
      if (!state?.resumable) return false;
      if (connection.closeCondition !== null && connection.closeCondition !== 'connection-timeout') return false;
      session.hibernated = true;
      state.clearTimers();
      state.expiryTimer = setTimeout(() => {
        logger.info({ jid: session.jid.toString(), unacked: state.unacked.length }, 'resumption window over: closing the hibernated session');
        end(session, 'resumption-expired');
      }, state.resumeSeconds * 1000).unref();
      journal.hibernated(session, state.resumeSeconds);
      logger.info({ jid: session.jid.toString(), resumeSeconds: state.resumeSeconds, unacked: state.unacked.length }, 'connection lost: session hibernated, waiting for resumption');
      return true;
    });

    router.onSessionEnded((session, reason) => {
      const state = states.get(session);
      if (state) {
        state.clearTimers();
        states.delete(session);
        resumable.delete(state.id);
        session.outbound = null;
        settleUnacknowledged(session, state.unacked.splice(0));
      }
      journal.closed(session, reason);
    });

    // On shutdown every stream was closed (system-shutdown) and its session ended; hibernated
    // sessions have no stream, so they are ended here, and the last events get a bounded wait.
    router.onShutdown(async () => {
      for (const session of [...sessions.all()]) if (session.hibernated) end(session, 'shutdown');
      await journal.drain(SHUTDOWN_DRAIN_MS);
    });

    function end(session: Session, reason: SessionEndReason): void {
      if (sessions.remove(session)) void router.endSession(session, reason);
    }

    /** Counts and keeps a stanza sent to the session; asks for an acknowledgement when due. */
    function sent(session: Session, state: StreamState, stanza: Element): void {
      state.sentStanza(stanza);
      if (state.unacked.length > maxUnacked) {
        logger.warn({ jid: session.jid.toString(), unacked: state.unacked.length }, 'too many unacknowledged stanzas: closing the session');
        if (session.hibernated) end(session, 'error');
        else session.connection.close(new StreamError('policy-violation', 'too many unacknowledged stanzas'));
        return;
      }
      if (session.hibernated) return;
      // After the stanza itself is written (the observer runs just before).
      if (state.sinceRequest >= config.HEARTH_GATEWAY_SM_REQUEST_EVERY) {
        if (!state.requestQueued) queueMicrotask(() => requestAck(session, state));
        state.requestQueued = true;
      } else state.requestTimer ??= setTimeout(() => requestAck(session, state), config.HEARTH_GATEWAY_SM_REQUEST_AFTER_MS).unref();
    }

    function requestAck(session: Session, state: StreamState): void {
      if (state.requestTimer) clearTimeout(state.requestTimer);
      state.requestTimer = null;
      state.sinceRequest = 0;
      state.requestQueued = false;
      if (!session.hibernated && state.unacked.length > 0) session.connection.send(xml('r', NS.sm));
    }

    /** Applies an `h` from the client; false (and the stream closed) when it is malformed or too high. */
    function acknowledge(connection: C2SConnection, state: StreamState, value: string | undefined): boolean {
      const h = parseH(value);
      if (h === null) {
        connection.close(new StreamError('bad-format', 'h must be an unsigned 32-bit integer'));
        return false;
      }
      if (!state.acknowledge(h)) {
        connection.close(new StreamError('undefined-condition', `handled-count-too-high: h=${h}, send-count=${state.sent}`));
        return false;
      }
      if (state.unacked.length === 0 && state.requestTimer) {
        clearTimeout(state.requestTimer);
        state.requestTimer = null;
      }
      return true;
    }

    /** XEP-0198 §4 (end of session): what the client never acknowledged. */
    function settleUnacknowledged(session: Session, stanzas: Element[]): void {
      let messages = 0;
      for (const stanza of stanzas) {
        const type = stanza.attr('type');
        if (stanza.name === 'iq' && (type === 'get' || type === 'set')) router.bounce(stanza, new StanzaError('service-unavailable'));
        else if (stanza.name === 'message') messages += 1;
      }
      if (messages > 0) {
        logger.info({ jid: session.jid.toString(), messages }, 'session ended with unacknowledged messages: dropped (the archive has them; clients sync with MAM)');
      }
    }
  },
};
