import { buildForm, DATA_FORMS_NS } from '../../xml/data-form';
import { xml, type Element } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import type { ArchivedMessage, Preferences, QueryResponse } from './archive-api';

/**
 * One XEP-0313 §4.2 result: `<message><result queryid id><forwarded><delay stamp/>original</forwarded></result></message>`
 * (XEP-0297 forwarding, XEP-0203 delay with the server time the message was accepted). A
 * stored stanza that cannot be shown is left out of `<forwarded/>` and its id kept (§3.2), so
 * a client paging by id never sees a gap.
 */
export function resultMessage(to: string, queryId: string | undefined, message: ArchivedMessage, original: Element | undefined): Element {
  return xml('message', NS.client, { to },
    xml('result', NS.mam, { queryid: queryId, id: message.archive_id },
      xml('forwarded', NS.forward, {},
        xml('delay', NS.delay, { stamp: message.accepted_at }),
        original)));
}

/**
 * The IQ result's `<fin/>` (§4.3): RSM `<first index>`, `<last>`, `<count>` (XEP-0059 §2.6: an
 * empty page carries only the count), and `complete='true'` exactly when the archive says the
 * range is exhausted in the paging direction.
 */
export function fin(page: QueryResponse): Element {
  const set = xml('set', NS.rsm, {},
    page.first ? xml('first', NS.rsm, { index: page.has_first_index ? String(page.first_index) : undefined }, page.first) : undefined,
    page.last ? xml('last', NS.rsm, {}, page.last) : undefined,
    xml('count', NS.rsm, {}, String(page.count)));
  return xml('fin', NS.mam, { complete: page.complete ? 'true' : undefined }, set);
}

/** §4.1.5: the query fields this server supports; `ids` is open to any value (XEP-0122 `<open/>`). */
export function queryFieldsForm(): Element {
  const form = buildForm('form', NS.mam, [
    { var: 'with', type: 'jid-single' },
    { var: 'start', type: 'text-single' },
    { var: 'end', type: 'text-single' },
    { var: 'before-id', type: 'text-single' },
    { var: 'after-id', type: 'text-single' },
    { var: 'ids', type: 'list-multi' },
  ]);
  form.childrenNamed('field', DATA_FORMS_NS).find((field) => field.attr('var') === 'ids')!
    .append(xml('validate', NS.xdataValidate, { datatype: 'xs:string' }, xml('open', NS.xdataValidate)));
  return xml('query', NS.mam, {}, form);
}

/** Archiving preferences (XEP-0441) as the archive holds them. */
export function preferencesElement(preferences: Preferences): Element {
  const list = (name: string, jids: string[]) => xml(name, NS.mam, {}, ...jids.map((jid) => xml('jid', NS.mam, {}, jid)));
  return xml('prefs', NS.mam, { default: preferences.default }, list('always', preferences.always), list('never', preferences.never));
}

/** §5 archive metadata: the first and last message of the archive; empty when there is none. */
export function metadataElement(first: ArchivedMessage | undefined, last: ArchivedMessage | undefined): Element {
  return xml('metadata', NS.mam, {},
    first && xml('start', NS.mam, { id: first.archive_id, timestamp: first.accepted_at }),
    last && xml('end', NS.mam, { id: last.archive_id, timestamp: last.accepted_at }));
}
