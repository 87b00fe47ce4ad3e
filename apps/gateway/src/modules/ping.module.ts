import { StanzaError } from '../stream/errors';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

/**
 * XMPP Ping (XEP-0199): client-to-server pings are answered here (§4.2); pings to a full JID go
 * to that client through the router; server-to-client pings are sent by the router's idle sweep.
 */
export const pingModule: GatewayModule = {
  name: 'ping',
  spec: 'https://xmpp.org/extensions/xep-0199.html',
  setup({ router }) {
    router.discoFeature(NS.ping);
    router.iq('get', NS.ping, 'ping', ({ target }) => {
      if (target === 'account') throw new StanzaError('service-unavailable');
    });
  },
};
