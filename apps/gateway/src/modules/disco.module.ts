import { StanzaError } from '../stream/errors';
import { xml } from '../xml/element';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

/**
 * Service discovery (XEP-0030 §3, §4): the server's identity and exactly the features modules
 * registered; for the user's own account, the account identity. Other accounts are not described
 * (the answer would reveal more than presence does).
 */
export const discoModule: GatewayModule = {
  name: 'disco',
  spec: 'https://xmpp.org/extensions/xep-0030.html',
  setup({ router }) {
    router.discoFeature(NS.discoInfo, NS.discoItems);

    router.iq('get', NS.discoInfo, 'query', ({ payload, target }) => {
      const node = payload.attr('node');
      if (node !== undefined) throw new StanzaError('item-not-found');
      if (target === 'account') throw new StanzaError('service-unavailable');
      if (target === 'self') {
        return xml('query', NS.discoInfo, {}, xml('identity', NS.discoInfo, { category: 'account', type: 'registered' }),
          ...[...router.accountFeatures].sort().map((feature) => xml('feature', NS.discoInfo, { var: feature })));
      }
      return xml('query', NS.discoInfo, {},
        xml('identity', NS.discoInfo, { category: 'server', type: 'im', name: 'Hearth' }),
        ...[...router.discoFeatures].sort().map((feature) => xml('feature', NS.discoInfo, { var: feature })));
    });

    router.iq('get', NS.discoItems, 'query', ({ payload, target, to }) => {
      if (payload.attr('node') !== undefined) throw new StanzaError('item-not-found');
      if (target === 'account') throw new StanzaError('service-unavailable');
      if (target === 'self') return xml('query', NS.discoItems);
      // The server's items are the services at its subdomains (XEP-0060 §5.1 finds pubsub.<domain> this way).
      const services = router.serviceDomains().filter((domain) => domain.endsWith(`.${to.domain}`)).sort();
      return xml('query', NS.discoItems, {}, ...services.map((jid) => xml('item', NS.discoItems, { jid })));
    });
  },
};
