import { StanzaError } from '../stream/errors';
import type { Element } from '../xml/element';
import type { Jid } from '../xml/jid';
import type { GatewayModule } from './module';

/**
 * Local message delivery (RFC 6121 §8.5) between sessions of this gateway. The messaging issue
 * replaces it with delivery through the log (stanza ids, archive, other gateways); until then a
 * message to an account with no available resource is refused with service-unavailable
 * (§8.5.2.2.1), as is one to an account that does not exist.
 */
export const messageModule: GatewayModule = {
  name: 'message',
  spec: 'https://www.rfc-editor.org/rfc/rfc6121#section-8.5',
  setup({ router, sessions, accounts }) {
    router.hook('message', async (session, stanza, toOrNull) => {
      const to: Jid = toOrNull ?? session.jid.bare;
      const type = stanza.attr('type') ?? 'normal';
      if (!router.isLocalDomain(to.domain)) return refuse(stanza, 'remote-server-not-found');
      if (!to.local) return refuse(stanza, 'service-unavailable');
      if (!to.isBare) {
        const target = sessions.get(to);
        if (target) {
          target.send(stanza);
          return true;
        }
        // §8.5.3.2.1: no such resource; chat and normal messages go to the bare JID instead.
        if (type !== 'chat' && type !== 'normal') return refuse(stanza, 'service-unavailable');
      }
      if (!(await accounts.find(to.bare.toString()))) return refuse(stanza, 'service-unavailable');
      const targets = sessions.available(to.bare).filter((s) => s.priority >= 0);
      if (targets.length === 0 || type === 'groupchat') return refuse(stanza, 'service-unavailable');
      for (const target of targets) target.send(stanza);
      return true;
    });

    function refuse(stanza: Element, condition: 'service-unavailable' | 'remote-server-not-found'): true {
      router.bounce(stanza, new StanzaError(condition));
      return true;
    }
  },
};
