import { StanzaError } from '../../stream/errors';
import { readForm } from '../../xml/data-form';
import type { Element } from '../../xml/element';
import { Jid } from '../../xml/jid';
import { NS } from '../../xml/namespaces';
import type { ArchiveDefault, Preferences, QueryRequest, RsmRequest } from './archive-api';

/**
 * The XEP-0313 §4.1 query fields this server understands (§7: the asterisked ones are why it
 * advertises `urn:xmpp:mam:2#extended`). Any other field is feature-not-implemented (§4.1.5).
 */
export const QUERY_FIELDS = ['with', 'start', 'end', 'before-id', 'after-id', 'ids'] as const;
const KNOWN_FIELDS = new Set<string>(['FORM_TYPE', ...QUERY_FIELDS]);
const ARCHIVE_DEFAULTS = new Set<string>(['always', 'never', 'roster']);

/** What the client asked for in `<query/>`, mapped onto the archive's QueryRequest (without requester and owner). */
export type QueryFilter = Omit<QueryRequest, 'requester' | 'owner'>;

/**
 * Reads an XEP-0313 `<query/>`: the data form (§4.1), the XEP-0059 `<set/>` (§4.3) and
 * `<flip-page/>` (§4.3.4). Only the syntax is checked here; ids and times are the archive's to judge.
 */
export function readQuery(query: Element): QueryFilter {
  const form = readForm(query);
  const field = (name: string) => {
    const value = form?.get(name)?.trim();
    return value ? value : '';
  };
  if (form) {
    if (form.formType !== NS.mam) throw new StanzaError('bad-request', `the query form has FORM_TYPE ${NS.mam}`);
    const unknown = [...form.values.keys()].find((name) => !KNOWN_FIELDS.has(name));
    if (unknown !== undefined) throw new StanzaError('feature-not-implemented', `unknown query field ${unknown}`);
  }
  const withJid = field('with');
  if (withJid && !Jid.parse(withJid)) throw new StanzaError('jid-malformed', `with ${JSON.stringify(withJid)} is not a JID`);
  return {
    with: withJid ? Jid.parse(withJid)!.toString() : '',
    start: field('start'),
    end: field('end'),
    before_id: field('before-id'),
    after_id: field('after-id'),
    ids: (form?.values.get('ids') ?? []).map((id) => id.trim()).filter((id) => id !== ''),
    rsm: readRsm(query.child('set', NS.rsm)),
    flip_page: query.child('flip-page', NS.mam) !== undefined,
  };
}

/** XEP-0059 §2: `max`, `after`, `before` (empty = the last page, §2.5) and `index` (§2.4). */
export function readRsm(set: Element | undefined): RsmRequest | null {
  if (!set) return null;
  const number = (name: string) => {
    const text = set.childText(name, NS.rsm)?.trim();
    if (text === undefined) return undefined;
    if (!/^\d{1,9}$/.test(text)) throw new StanzaError('bad-request', `RSM ${name} must be a non-negative integer`);
    return Number(text);
  };
  const max = number('max');
  const index = number('index');
  const before = set.child('before', NS.rsm);
  return {
    max: max ?? 0, has_max: max !== undefined,
    after: set.childText('after', NS.rsm)?.trim() ?? '',
    before: before?.text().trim() ?? '', has_before: before !== undefined,
    index: index ?? 0, has_index: index !== undefined,
  };
}

/** Archiving preferences (XEP-0441; XEP-0313 §6 before 1.0): the `<prefs default=…><always><jid/>…</always><never>…</never></prefs>` a client sets. */
export function readPreferences(prefs: Element): Preferences {
  const defaultMode = prefs.attr('default');
  if (!defaultMode || !ARCHIVE_DEFAULTS.has(defaultMode)) throw new StanzaError('bad-request', 'default is always, never or roster');
  const jids = (list: string) => (prefs.child(list, NS.mam)?.childrenNamed('jid', NS.mam) ?? []).map((element) => {
    const jid = Jid.parse(element.text().trim());
    if (!jid) throw new StanzaError('jid-malformed', `${JSON.stringify(element.text())} in <${list}/> is not a JID`);
    return jid.toString();
  });
  return { default: defaultMode as ArchiveDefault, always: jids('always'), never: jids('never') };
}
