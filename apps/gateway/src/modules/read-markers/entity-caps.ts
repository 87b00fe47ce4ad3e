import type { Logger } from '@hearth/runtime';
import type { Router } from '../../router/router';
import type { Session } from '../../sessions/session';
import { xml, type Element } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import { CAPS_NS } from './read-markers.xml';

/** How long the server waits for a client to answer its disco#info query. */
const CAPS_QUERY_TIMEOUT_MS = 10_000;

interface SessionCaps {
  /** `node#ver` last advertised in presence. */
  advertised?: string;
  features: ReadonlySet<string>;
}

/**
 * XEP-0115 entity capabilities as a PEP service needs them (XEP-0163 §4.3.1): which features,
 * `+notify` ones in particular, each session's client advertises. On available presence with a
 * new `<c node ver/>`, the server asks that very session for disco#info of `node#ver` (XEP-0115
 * §6.2) and records the features it answers.
 *
 * The answer is kept per session, not cached by `ver` across sessions: a shared cache needs the
 * verification string checked (§5.4) to be safe against poisoning, and one query per login is cheap.
 */
export class EntityCaps {
  private readonly bySession = new WeakMap<Session, SessionCaps>();
  private readonly pending = new Map<string, { session: Session; advertised: string; timer: NodeJS.Timeout }>();
  private counter = 0;

  constructor(router: Router, private readonly logger: Logger) {
    router.hook('presence', (session, stanza, to) => {
      if (!to && stanza.attr('type') === undefined) this.observe(session, stanza);
      return false; // the presence module handles the presence itself
    });
    router.hook('iq', (session, stanza) => this.answer(session, stanza));
    router.onSessionEnded((session) => {
      for (const [id, query] of this.pending) {
        if (query.session === session) {
          clearTimeout(query.timer);
          this.pending.delete(id);
        }
      }
    });
  }

  /** Whether the session's client advertised `feature` (e.g. `urn:xmpp:mds:displayed:0+notify`). */
  has(session: Session, feature: string): boolean {
    return this.bySession.get(session)?.features.has(feature) ?? false;
  }

  private observe(session: Session, presence: Element): void {
    const caps = presence.child('c', CAPS_NS);
    const node = caps?.attr('node');
    const ver = caps?.attr('ver');
    if (!node || !ver) return;
    const advertised = `${node}#${ver}`;
    if (this.bySession.get(session)?.advertised === advertised) return;
    const id = `caps-${++this.counter}`;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      this.logger.debug({ jid: session.jid.toString(), node: advertised }, 'no disco#info answer to the caps query: the client gets no +notify events');
    }, CAPS_QUERY_TIMEOUT_MS);
    timer.unref();
    this.pending.set(id, { session, advertised, timer });
    session.send(xml('iq', NS.client, { type: 'get', id, from: session.jid.bare.toString(), to: session.jid.toString() },
      xml('query', NS.discoInfo, { node: advertised })));
  }

  /** Takes the client's answer to a caps query (the router drops responses to the server otherwise). */
  private answer(session: Session, iq: Element): boolean {
    const type = iq.attr('type');
    if (type !== 'result' && type !== 'error') return false;
    const id = iq.attr('id') ?? '';
    const query = this.pending.get(id);
    if (!query || query.session !== session) return false;
    clearTimeout(query.timer);
    this.pending.delete(id);
    const features = type === 'result'
      ? (iq.child('query', NS.discoInfo)?.childrenNamed('feature', NS.discoInfo).map((f) => f.attr('var') ?? '') ?? [])
      : [];
    this.bySession.set(session, { advertised: query.advertised, features: new Set(features) });
    return true;
  }
}
