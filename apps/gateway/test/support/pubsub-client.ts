import { xml, type TestXmppClient, type XmppElement } from '@hearth/testing';

/** XEP-0060 stanzas for scenario tests, as a client library would build them. */
export const SERVICE = 'pubsub.localhost';
export const PUBSUB = 'http://jabber.org/protocol/pubsub';
export const OWNER = `${PUBSUB}#owner`;
export const EVENT = `${PUBSUB}#event`;
export const ERRORS = `${PUBSUB}#errors`;
export const NODE_CONFIG = `${PUBSUB}#node_config`;
const DATA = 'jabber:x:data';

export const pubsub = (...children: XmppElement[]) => xml('pubsub', { xmlns: PUBSUB }, ...children);
export const owner = (...children: XmppElement[]) => xml('pubsub', { xmlns: OWNER }, ...children);

/** A submitted data form with FORM_TYPE first (XEP-0004, XEP-0068). */
export function form(formType: string, fields: Record<string, string>): XmppElement {
  return xml('x', { xmlns: DATA, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, formType)),
    ...Object.entries(fields).map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))));
}

/** A form's field values by var. */
export function formValues(x: XmppElement | undefined): Record<string, string[]> {
  return Object.fromEntries((x?.getChildren('field', DATA) ?? []).map((f) => [f.attrs.var!, f.getChildren('value', DATA).map((v) => v.text())]));
}

/** The event notifications `client` received so far for one node (and one item id, when given). */
export function notifications(client: TestXmppClient, node: string, itemId?: string): XmppElement[] {
  return client.received.filter((s) => {
    const items = s.is('message') ? s.getChild('event', EVENT)?.getChild('items', EVENT) : undefined;
    return items?.attrs.node === node && (itemId === undefined || items.getChild('item', EVENT)?.attrs.id === itemId);
  });
}

/** Waits for the notification of one published item. */
export function waitForItem(client: TestXmppClient, node: string, itemId: string, timeoutMs?: number): Promise<XmppElement> {
  return client.waitFor((s) => s.is('message') && s.getChild('event', EVENT)?.getChild('items', EVENT)?.attrs.node === node &&
    s.getChild('event', EVENT)!.getChild('items', EVENT)!.getChild('item', EVENT)?.attrs.id === itemId, `the notification of ${node} item ${itemId}`, timeoutMs);
}

export interface Refusal {
  condition: string;
  type: string | undefined;
  /** The pubsub#errors element's name, or undefined. */
  pubsub: string | undefined;
  text: string | undefined;
}

/** The stanza error an IQ to the service is refused with (fails when it is answered with a result). */
export async function refusal(request: Promise<unknown>): Promise<Refusal> {
  try {
    const result = await request;
    throw new Error(`expected an error, got ${String(result)}`);
  } catch (error) {
    const e = error as { name?: string; condition?: string; type?: string; text?: string; application?: XmppElement };
    if (e.name !== 'StanzaError') throw error;
    const app = e.application?.attrs.xmlns === ERRORS ? e.application.name : undefined;
    return { condition: e.condition!, type: e.type, pubsub: app, text: e.text || undefined };
  }
}

export const joined = (who: string) => xml('joined', { xmlns: 'urn:example:meal' }, xml('who', {}, who));

/** `client` publishes one item to `node` and gets the id the service used. */
export async function publish(client: TestXmppClient, node: string, id: string | undefined, payload: XmppElement, ...extra: XmppElement[]): Promise<string> {
  const result = await client.iq('set', pubsub(xml('publish', { node }, xml('item', { id }, payload)), ...extra), SERVICE);
  return result.getChild('pubsub', PUBSUB)!.getChild('publish', PUBSUB)!.getChild('item', PUBSUB)!.attrs.id!;
}

/** `client` subscribes its bare JID; the `<subscription/>` answered. */
export async function subscribe(client: TestXmppClient, node: string): Promise<XmppElement> {
  const result = await client.iq('set', pubsub(xml('subscribe', { node, jid: client.bareJid })), SERVICE);
  return result.getChild('pubsub', PUBSUB)!.getChild('subscription', PUBSUB)!;
}
