import { StanzaError } from '../../stream/errors';
import { readForm } from '../../xml/data-form';
import { Jid } from '../../xml/jid';
import type { IqRequest } from '../../router/router';
import type { GatewayModule } from '../module';

const PUSH_NS = 'urn:xmpp:push:0';
const PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';

/**
 * XEP-0357 Push Notifications, the user's-server side (§5 enable, §6 disable): the registration
 * goes to the push service, which learns from session events whether the enabling resource is
 * active. `actor` is always the session's authenticated full JID, never anything from the stanza.
 */
export const pushModule: GatewayModule = {
  name: 'push',
  spec: 'https://xmpp.org/extensions/xep-0357.html',
  setup({ router, services }) {
    const push = services.push;
    if (!push) return;
    router.accountFeature(PUSH_NS);

    router.iq('set', PUSH_NS, 'enable', async (request) => {
      const { service, node } = addressing(request);
      if (!node) throw new StanzaError('bad-request', 'enable needs a node');
      const form = readForm(request.payload);
      if (form && form.formType !== PUBLISH_OPTIONS) throw new StanzaError('bad-request', `publish options have FORM_TYPE ${PUBLISH_OPTIONS}`);
      await push.request('EnablePush', {
        actor: request.session.jid.toString(), service, node,
        device_token: form?.get('device_token') ?? '', bundle_id: form?.get('bundle_id') ?? '', environment: form?.get('environment') ?? '',
      });
    });

    router.iq('set', PUSH_NS, 'disable', async (request) => {
      const { service, node } = addressing(request);
      await push.request('DisablePush', { actor: request.session.jid.toString(), service, node: node ?? '' });
    });
  },
};

/** §5/§6: the IQ goes to the user's own account (or the server); `jid` names the app server. */
function addressing({ payload, target }: IqRequest): { service: string; node: string | undefined } {
  if (target === 'account') throw new StanzaError('forbidden', 'push is enabled on your own account');
  const service = Jid.parse(payload.attr('jid') ?? '');
  if (!service) throw new StanzaError('jid-malformed', 'jid names the push service');
  return { service: service.toString(), node: payload.attr('node') || undefined };
}
