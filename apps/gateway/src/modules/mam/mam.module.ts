import type { IqRequest } from '../../router/router';
import { StanzaError } from '../../stream/errors';
import { NS } from '../../xml/namespaces';
import type { GatewayModule } from '../module';
import type { ArchivedMessage, Preferences, PreferencesRequest, QueryRequest, QueryResponse, SetPreferencesRequest } from './archive-api';
import { parseArchivedStanza } from './archived-stanza';
import { readPreferences, readQuery } from './mam-request';
import { fin, metadataElement, preferencesElement, queryFieldsForm, resultMessage } from './mam-response';

/**
 * The archive adds an XEP-0359 stanza-id to what it stores, so a stored stanza may be slightly
 * larger than the client stanza the gateway accepted; twice the stanza limit leaves room.
 */
const ARCHIVED_STANZA_SIZE_FACTOR = 2;

/**
 * XEP-0313 Message Archive Management, `urn:xmpp:mam:2` and `#extended`, as a thin XML ↔ gRPC
 * mapping onto the archive service (libs/contracts/proto/archive.proto). The archive owns the
 * semantics: ids are positions in the user's archive order, unknown ids are item-not-found,
 * only the owner reads an archive. The gateway maps fields, forwards results to the asking
 * resource and closes with `<fin/>`.
 */
export const mamModule: GatewayModule = {
  name: 'mam',
  spec: 'https://xmpp.org/extensions/xep-0313.html',
  setup({ router, services, config, logger }) {
    const archive = services.archive;
    if (!archive) return;
    // §7: advertised on the archiving JID, the user's bare JID.
    router.accountFeature(NS.mam, NS.mamExtended);
    const parserLimits = { maxStanzaBytes: config.HEARTH_GATEWAY_MAX_STANZA_BYTES * ARCHIVED_STANZA_SIZE_FACTOR, maxDepth: config.HEARTH_GATEWAY_MAX_DEPTH + 1 };

    // §4: results go to the asking resource as messages, then the IQ result closes the query.
    router.iq('set', NS.mam, 'query', async (request) => {
      const owner = archiveOf(request);
      const filter = readQuery(request.payload);
      const requester = request.session.jid.bare.toString();
      const page = await archive.request<QueryResponse>('Query', { requester, owner, ...filter } satisfies QueryRequest);
      const queryId = request.payload.attr('queryid');
      const to = request.session.jid.toString();
      for (const message of page.messages) {
        const original = parseArchivedStanza(message.stanza, parserLimits);
        if (!original) logger.error({ jid: requester, archiveId: message.archive_id }, 'archived stanza does not parse; sending its id without the message');
        request.session.send(resultMessage(to, queryId, message, original));
      }
      return fin(page);
    });

    // §4.1.5: the fields a query form may carry.
    router.iq('get', NS.mam, 'query', (request) => {
      archiveOf(request);
      return queryFieldsForm();
    });

    // §5 (#extended): the first and last message of the archive.
    router.iq('get', NS.mam, 'metadata', async (request) => {
      const base = { requester: request.session.jid.bare.toString(), owner: archiveOf(request), with: '', start: '', end: '', before_id: '', after_id: '', ids: [], flip_page: false };
      const rsm = { max: 1, has_max: true, after: '', before: '', has_before: false, index: 0, has_index: false };
      const [first, last] = await Promise.all([
        archive.request<QueryResponse>('Query', { ...base, rsm } satisfies QueryRequest),
        archive.request<QueryResponse>('Query', { ...base, rsm: { ...rsm, has_before: true } } satisfies QueryRequest),
      ]);
      return metadataElement(first.messages[0] as ArchivedMessage | undefined, last.messages[0] as ArchivedMessage | undefined);
    });

    // Archiving preferences (XEP-0313 before 1.0 §6, now XEP-0441): stored by the archive through events.
    router.iq('get', NS.mam, 'prefs', async (request) => {
      const preferences = await archive.request<Preferences>('GetPreferences', ownerRequest(request));
      return preferencesElement(preferences);
    });
    router.iq('set', NS.mam, 'prefs', async (request) => {
      const preferences = await archive.request<Preferences>('SetPreferences', { ...ownerRequest(request), ...readPreferences(request.payload) } satisfies SetPreferencesRequest);
      return preferencesElement(preferences);
    });
  },
};

/**
 * §3.3.1 / §8.1: a user's archive lives at their bare JID; with no `to` the query is for the
 * sender's own. The server's domain hosts no archive (service-unavailable); another user's
 * archive is passed on as asked, and the archive answers forbidden: it alone decides who reads.
 */
function archiveOf({ stanza, target, to, session }: IqRequest): string {
  if (target === 'self' || target === 'account') return to.toString();
  if (stanza.attr('to') === undefined) return session.jid.bare.toString();
  throw new StanzaError('service-unavailable', 'the server hosts no archive of its own; query your account');
}

function ownerRequest(request: IqRequest): PreferencesRequest {
  return { requester: request.session.jid.bare.toString(), owner: archiveOf(request) };
}

