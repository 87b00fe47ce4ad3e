import { Element, xml } from '../../xml/element';
import { Jid } from '../../xml/jid';
import { NS } from '../../xml/namespaces';

/** Longest client message id used as a dedupe key (the MessageAccepted contract's bound). */
export const MAX_CLIENT_MESSAGE_ID = 256;

/**
 * The sender's own id for a message: XEP-0359 §3.1 `<origin-id/>`, else the stanza's `id`
 * attribute (RFC 6120 §8.1.3). Undefined when there is none (or it is too long to be a key).
 */
export function clientMessageIdOf(stanza: Element): string | undefined {
  const id = stanza.child('origin-id', NS.sid)?.attr('id') ?? stanza.attr('id');
  return id && id.length <= MAX_CLIENT_MESSAGE_ID ? id : undefined;
}

/**
 * XEP-0359 §3.3 (security): a `<stanza-id/>` claiming to be by an entity this server is
 * responsible for can only come from this server, so any the client put there is removed.
 * Others (by remote entities) are kept.
 */
export function withoutLocalStanzaIds(stanza: Element, isLocal: (domain: string) => boolean): Element {
  const forged = (node: Element | string) => typeof node !== 'string' && node.is('stanza-id', NS.sid) && isLocalBy(node.attr('by'), isLocal);
  if (!stanza.children.some(forged)) return stanza;
  const copy = new Element(stanza.name, stanza.ns, { ...stanza.attrs });
  copy.children.push(...stanza.children.filter((c) => !forged(c)));
  return copy;
}

function isLocalBy(by: string | undefined, isLocal: (domain: string) => boolean): boolean {
  const jid = by === undefined ? null : Jid.parse(by);
  return !jid || isLocal(jid.domain);
}

/** XEP-0359 §3.2: `<stanza-id xmlns="urn:xmpp:sid:0" by="<archive owner>" id="…"/>`. */
export function stanzaIdElement(by: string, id: string): Element {
  return xml('stanza-id', NS.sid, { by, id });
}

/**
 * The same message as another archive owner sees it: every copy carries the stanza id of the
 * archive it is in (XEP-0313 §3.2: the recipient's for the recipient, the sender's for the
 * sender's devices). The archive keeps one id per message in both archives, so only `by` changes.
 */
export function withStanzaIdBy(stanza: Element, from: string, to: string): Element {
  const copy = new Element(stanza.name, stanza.ns, { ...stanza.attrs });
  copy.children.push(...stanza.children.map((c) =>
    typeof c !== 'string' && c.is('stanza-id', NS.sid) && c.attr('by') === from ? stanzaIdElement(to, c.attr('id') ?? '') : c));
  return copy;
}
