import { xml } from '../xml/element';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

/**
 * Session establishment from RFC 3921 §3, kept as a no-op marked `<optional/>`
 * (draft-cridland-xmpp-session-01) because older clients (Strophe, XMPPFramework) still send it.
 */
export const sessionModule: GatewayModule = {
  name: 'session',
  spec: 'https://datatracker.ietf.org/doc/html/draft-cridland-xmpp-session-01',
  setup({ router }) {
    router.streamFeature((connection) => (connection.stage === 'authenticated' ? xml('session', NS.session, {}, xml('optional', NS.session)) : undefined));
    router.iq('set', NS.session, 'session', () => undefined);
  },
};
