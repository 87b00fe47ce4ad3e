import type { Session } from '../../sessions/session';
import type { SessionRegistry } from '../../sessions/session-registry';
import { StreamParser } from '../../stream/parser';
import { xml, type Element } from '../../xml/element';
import { Jid } from '../../xml/jid';
import { NS } from '../../xml/namespaces';

/**
 * Event notifications (XEP-0060 §7.1.2, §7.2.2, §8.4.2, §8.5.2, §12.20): the `<message/>` a
 * subscriber gets, and its delivery to the sessions this gateway holds.
 */

/** An item as the notification shows it: payload only when the node delivers payloads. */
export interface NotifiedItem {
  id: string;
  /** The payload element as XML ('' for none). */
  payload: string;
  publisher?: string;
}

/**
 * Payload XML as the pubsub service stores it (checked there: well-formed, one namespaced
 * element) back into an element. Parsed with the stream parser, so exactly the XML rules of a
 * client stream apply; the limits were enforced when it was published (HEARTH_PUBSUB_MAX_PAYLOAD_BYTES).
 */
export function parsePayload(payload: string): Element | undefined {
  if (payload === '') return undefined;
  let element: Element | undefined;
  let failure: Error | undefined;
  const parser = new StreamParser('framed', { maxStanzaBytes: Number.MAX_SAFE_INTEGER, maxDepth: Number.MAX_SAFE_INTEGER }, {
    streamStart: () => undefined,
    element: (e) => void (element ??= e),
    streamEnd: () => undefined,
    error: (e) => void (failure ??= e),
  });
  parser.write(payload);
  if (failure || !element) throw new Error(`an item payload is not one XML element: ${failure?.message ?? 'empty'}`);
  return element;
}

/** `<item id publisher>PAYLOAD</item>` in the given namespace (pubsub for retrieval, pubsub#event for notifications). */
export function itemElement(ns: string, item: NotifiedItem, withPayload: boolean): Element {
  return xml('item', ns, { id: item.id, publisher: item.publisher ? bare(item.publisher) : undefined }, withPayload ? parsePayload(item.payload) : undefined);
}

/** Items are attributed to the publisher's account, not the device it used (§7.1.2.1 publisher is a JID; a resource says more than needed). */
function bare(jid: string): string {
  return Jid.parse(jid)?.bare.toString() ?? jid;
}

export interface EventMessage {
  service: string;
  to: string;
  id: string;
  /** The child of `<event/>`: `<items/>`, `<purge/>`, `<delete/>`. */
  content: Element;
  /** SubID headers to add (§12.20): given only when the subscriber must tell subscriptions apart. */
  subids?: readonly string[];
  /** For a last published item sent later than it was published (§6.1.7, XEP-0203). */
  publishedAt?: string;
}

export function eventMessage({ service, to, id, content, subids = [], publishedAt }: EventMessage): Element {
  return xml('message', NS.client, { from: service, to, type: 'headline', id },
    xml('event', NS.pubsubEvent, {}, content),
    subids.length > 0 && xml('headers', NS.shim, {}, ...subids.map((subid) => xml('header', NS.shim, { name: 'SubID' }, subid))),
    publishedAt && xml('delay', NS.delay, { stamp: publishedAt, from: service }));
}

/**
 * The sessions of this gateway a notification to `recipient` goes to: every available resource
 * with non-negative priority for a bare JID (RFC 6121 §8.5.2.1.1, headline), that resource for a
 * full JID (§8.5.3.1). Other gateways deliver to the sessions they hold; offline subscribers are push's.
 */
export function sessionsFor(sessions: SessionRegistry, recipient: string): Session[] {
  const jid = Jid.parse(recipient);
  if (!jid) return [];
  if (jid.isBare) return sessions.available(jid).filter((s) => s.priority >= 0);
  const session = sessions.get(jid);
  return session ? [session] : [];
}
