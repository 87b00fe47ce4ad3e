import { itemElement } from '../roster/roster.service';
import { StanzaError } from '../stream/errors';
import { xml } from '../xml/element';
import { Jid } from '../xml/jid';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

/** Longest roster item name or group name accepted (RFC 6121 §2.3.3 lets the server limit them). */
const MAX_NAME_CHARS = 1024;
const MAX_GROUPS_PER_ITEM = 32;

/**
 * Roster management (RFC 6121 §2): get (§2.2), set (§2.3), remove (§2.5), with pushes to every
 * interested resource. Only the user's own roster is reachable (§2.1.5: to absent or own bare JID).
 * Roster versioning (§2.6): a client that still has the current version is answered with an empty
 * result instead of the roster again (what a phone reconnecting many times a day saves); any
 * other version gets the whole roster, never a list of changes (§2.6.3 lets the server choose).
 */
export const rosterModule: GatewayModule = {
  name: 'roster',
  spec: 'https://www.rfc-editor.org/rfc/rfc6121#section-2',
  setup({ router, roster }) {
    router.streamFeature((connection) => (connection.stage === 'authenticated' ? xml('ver', NS.rosterVersioning) : undefined));

    router.iq('get', NS.roster, 'query', async ({ session, payload, target }) => {
      if (target === 'account') throw new StanzaError('forbidden');
      session.rosterInterested = true;
      const known = payload.attr('ver');
      if (known !== undefined) session.rosterVersioning = true;
      const { items, version } = await roster.roster(session.jid.bare);
      if (known === version) return;
      return xml('query', NS.roster, { ver: known === undefined ? undefined : version }, ...items.map(itemElement));
    });

    router.iq('set', NS.roster, 'query', async ({ session, payload, target }) => {
      if (target === 'account') throw new StanzaError('forbidden');
      const items = payload.childrenNamed('item', NS.roster);
      if (items.length !== 1) throw new StanzaError('bad-request', 'a roster set has exactly one item');
      const item = items[0]!;
      const contact = Jid.parse(item.attr('jid') ?? '');
      if (!contact || !contact.isBare) throw new StanzaError('bad-request', 'the item needs a bare JID');
      const owner = session.jid.bare;
      if (contact.equals(owner)) throw new StanzaError('not-allowed', 'your own JID is not a contact');

      const subscription = item.attr('subscription');
      if (subscription === 'remove') {
        if (!(await roster.remove(owner, contact))) throw new StanzaError('item-not-found');
        return;
      }
      if (subscription !== undefined && subscription !== 'none') throw new StanzaError('bad-request', 'only subscription="remove" may be set');
      const groups = item.childrenNamed('group', NS.roster).map((g) => g.text());
      if (groups.some((g) => g === '') || new Set(groups).size !== groups.length) throw new StanzaError('bad-request', 'empty or duplicate group');
      const name = item.attr('name');
      if (groups.length > MAX_GROUPS_PER_ITEM || [name ?? '', ...groups].some((s) => s.length > MAX_NAME_CHARS)) {
        throw new StanzaError('not-acceptable', 'name or groups too long');
      }
      const before = await roster.entry(owner, contact);
      await roster.save(owner, before, { ...before, name: name || undefined, groups, listed: true });
    });
  },
};
