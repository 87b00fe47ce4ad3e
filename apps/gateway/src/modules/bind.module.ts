import { randomBytes } from 'node:crypto';
import { Session } from '../sessions/session';
import { StanzaError, StreamError } from '../stream/errors';
import { xml } from '../xml/element';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

/**
 * Resource binding (RFC 6120 §7). The server generates a resource when the client asks for none
 * (§7.6.2.1); binding a full JID that is already bound replaces the older session, which is
 * closed with a `conflict` stream error (§7.7.2.2, "override the existing session").
 */
export const bindModule: GatewayModule = {
  name: 'bind',
  spec: 'https://www.rfc-editor.org/rfc/rfc6120#section-7',
  setup({ router, sessions, config, logger }) {
    router.streamFeature((connection) => (connection.stage === 'authenticated' ? xml('bind', NS.bind) : undefined));

    router.negotiation('authenticated', NS.bind, 'bind', async (connection, iq) => {
      const account = connection.account!;
      const reply = (error: StanzaError) => connection.send(error.replyTo(iq, undefined));
      if (!iq.is('iq', NS.client) || iq.attr('type') !== 'set' || !iq.attr('id')) return reply(new StanzaError('bad-request'));
      const requested = iq.elements()[0]!.childText('resource', NS.bind)?.trim() ?? '';
      const jid = account.withResource(requested || randomBytes(8).toString('hex'));
      if (!jid) return reply(new StanzaError('bad-request', 'invalid resource'));

      const previous = sessions.get(jid);
      const others = sessions.resources(account).filter((s) => s !== previous);
      if (others.length >= config.HEARTH_GATEWAY_MAX_RESOURCES_PER_ACCOUNT) return reply(new StanzaError('resource-constraint', 'too many resources'));
      if (previous) {
        logger.info({ jid: jid.toString() }, 'resource bound again: replacing the older session');
        sessions.remove(previous);
        await router.endSession(previous, 'replaced');
        previous.connection.close(new StreamError('conflict', 'replaced by a new connection'));
      }
      const session = new Session(jid, connection);
      sessions.add(session);
      connection.session = session;
      connection.stage = 'bound';
      connection.send(xml('iq', NS.client, { type: 'result', id: iq.attr('id') },
        xml('bind', NS.bind, {}, xml('jid', NS.bind, {}, jid.toString()))));
      router.sessionBound(session);
    });
  },
};
