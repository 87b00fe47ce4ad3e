import { StanzaError } from '../stream/errors';
import { xml } from '../xml/element';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

/** Software Version (XEP-0092). The operating system is not disclosed (§5, security considerations). */
export const versionModule: GatewayModule = {
  name: 'version',
  spec: 'https://xmpp.org/extensions/xep-0092.html',
  setup({ router, softwareVersion }) {
    router.discoFeature(NS.version);
    router.iq('get', NS.version, 'query', ({ target }) => {
      if (target !== 'server') throw new StanzaError('service-unavailable');
      return xml('query', NS.version, {}, xml('name', NS.version, {}, 'Hearth'), xml('version', NS.version, {}, softwareVersion));
    });
  },
};
