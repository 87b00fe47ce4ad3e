import { MessageAccepted } from '@hearth/contracts';
import { StanzaError } from '../../stream/errors';
import { NS } from '../../xml/namespaces';
import type { GatewayModule } from '../module';
import { CarbonsState } from './carbons';
import { MessageDelivery } from './delivery';
import { DedupePruner } from './dedupe-pruner';
import { MessageAcceptance } from './message-acceptance';

/**
 * Messaging through the log (issue #5): a message from a session is accepted into the log
 * (message-acceptance.ts: validation, rate limit, XEP-0359 stanza id, idempotent resend), and
 * every gateway delivers what the log accepted to the sessions it holds (delivery.ts: RFC 6121
 * §8.5, XEP-0280 carbons). Receipts (XEP-0184), chat states (XEP-0085) and markers (XEP-0333)
 * are messages like any other: accepted, archived, delivered unchanged.
 */
export const messagingModule: GatewayModule = {
  name: 'messaging',
  spec: 'https://www.rfc-editor.org/rfc/rfc6121#section-8.5',
  setup({ router, sessions, accounts, log, logger, config, messageDedupe }) {
    const carbons = new CarbonsState();
    const acceptance = new MessageAcceptance({
      router, sessions, accounts, log, logger, dedupe: messageDedupe,
      ratePerSec: config.HEARTH_GATEWAY_MESSAGE_RATE_PER_SEC,
      burst: config.HEARTH_GATEWAY_MESSAGE_BURST,
      lingerMs: config.HEARTH_GATEWAY_APPEND_LINGER_MS,
      appendTimeoutMs: config.HEARTH_GATEWAY_APPEND_TIMEOUT_MS,
    });
    const delivery = new MessageDelivery(sessions, carbons);
    const pruner = new DedupePruner(messageDedupe, config.HEARTH_GATEWAY_DEDUPE_RETENTION_HOURS * 3_600_000, logger);
    router.onShutdown(() => pruner.stop());

    router.hook('message', (session, stanza, to) => acceptance.handle(session, stanza, to));
    log.on(MessageAccepted, (event) => delivery.deliver(event.payload));

    // XEP-0280 §4: enable and disable for the sending resource.
    for (const [name, apply] of [['enable', carbons.enable], ['disable', carbons.disable]] as const) {
      router.iq('set', NS.carbons, name, ({ session, target }) => {
        if (target !== 'server' && target !== 'self') throw new StanzaError('forbidden', 'carbons are enabled with your own server');
        apply.call(carbons, session);
      });
    }
    // XEP-0280 §3, XEP-0184 §4 (receipts pass through), XEP-0359 §4 (on the server and on every account).
    router.discoFeature(NS.carbons, NS.receipts, NS.sid);
    router.accountFeature(NS.sid);
  },
};
