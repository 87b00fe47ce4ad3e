import { AccountDeleted } from '@hearth/contracts';
import { StreamError } from '../stream/errors';
import type { GatewayModule } from './module';

/**
 * An account deleted through any gateway ends its sessions on every gateway: each one hears
 * AccountDeleted from the log and disconnects the sessions it holds (live ones with
 * not-authorized, hibernated ones at once). The gateway that ran the command has already done so
 * for its own; doing it again changes nothing.
 */
export const accountEventsModule: GatewayModule = {
  name: 'account-events',
  spec: 'https://xmpp.org/extensions/xep-0077.html#usecases-cancel',
  setup({ router, log }) {
    log.on(AccountDeleted, ({ payload }) => {
      for (const session of router.sessions.resources(payload.account)) {
        router.disconnect(session, new StreamError('not-authorized', 'account deleted'));
      }
    });
  },
};
