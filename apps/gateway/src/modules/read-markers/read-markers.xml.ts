import { StanzaError, type StanzaErrorCondition } from '../../stream/errors';
import type { SubmittedForm } from '../../xml/data-form';
import { xml, type Element } from '../../xml/element';
import { NS } from '../../xml/namespaces';

/** XEP-0333 Displayed Markers. */
export const CHAT_MARKERS_NS = 'urn:xmpp:chat-markers:0';
/** XEP-0490 §4.1: the PEP node, and the namespace of its `<displayed/>` payload. */
export const MDS_NODE = 'urn:xmpp:mds:displayed:0';
/** XEP-0490 §4.5.2: the account feature of server-assisted displayed updates. */
export const MDS_SERVER_ASSIST = 'urn:xmpp:mds:server-assist:0';
/** XEP-0163 §4.3.1 / XEP-0490 §4.3: the caps feature of a client that wants MDS notifications. */
export const MDS_NOTIFY = `${MDS_NODE}+notify`;
/** XEP-0359. */
export const STANZA_ID_NS = 'urn:xmpp:sid:0';
/** XEP-0115. */
export const CAPS_NS = 'http://jabber.org/protocol/caps';
/** Hearth's unread-count extension (apps/read-state/README.md "Hearth extension urn:hearth:unread:0"). */
export const HEARTH_UNREAD_NS = 'urn:hearth:unread:0';
export const PUBLISH_OPTIONS_FORM = 'http://jabber.org/protocol/pubsub#publish-options';

/**
 * A stanza error with a XEP-0060 application-specific condition (§7.1.3, §7.1.5, §6.5.9):
 * `<conflict/><precondition-not-met xmlns='…pubsub#errors'/>` and the like.
 */
export class PubsubError extends StanzaError {
  constructor(
    condition: StanzaErrorCondition,
    readonly pubsubCondition: string,
    readonly feature?: string,
    text?: string,
  ) {
    super(condition, text);
  }

  override replyTo(stanza: Element, from: string | undefined): Element {
    const reply = super.replyTo(stanza, from);
    reply.child('error', NS.client)?.append(xml(this.pubsubCondition, NS.pubsubErrors, { feature: this.feature }));
    return reply;
  }
}

/** `feature-not-implemented` + `<unsupported feature=…/>` (XEP-0060 §7.1.3.x): what PEP answers beyond the MDS node. */
export const unsupported = (feature: string, text?: string) => new PubsubError('feature-not-implemented', 'unsupported', feature, text);

/** The displayed state of one chat: the `<stanza-id/>` inside XEP-0490's `<displayed/>`. */
export interface DisplayedState {
  stanzaId: string;
  by: string;
}

/** Reads `<displayed xmlns='urn:xmpp:mds:displayed:0'><stanza-id by id/></displayed>` (XEP-0490 §4.1: exactly one stanza-id). */
export function readDisplayed(displayed: Element): DisplayedState {
  const ids = displayed.childrenNamed('stanza-id', STANZA_ID_NS);
  if (ids.length !== 1) throw new StanzaError('bad-request', 'displayed carries exactly one stanza-id (XEP-0490 §4.1)');
  const stanzaId = ids[0]!.attr('id');
  const by = ids[0]!.attr('by');
  if (!stanzaId || !by) throw new StanzaError('bad-request', 'stanza-id needs id and by');
  return { stanzaId, by };
}

/** An item of the MDS node, in the pubsub namespace (items result) or the #event one (notification). */
export function displayedItem(ns: string, peer: string, state: DisplayedState): Element {
  return xml('item', ns, { id: peer },
    xml('displayed', MDS_NODE, {}, xml('stanza-id', STANZA_ID_NS, { by: state.by, id: state.stanzaId })));
}

/**
 * XEP-0490 §4.2 asks clients to publish with these options. The node's configuration is fixed
 * (read-state keeps one pointer per chat, private to the user), so each option is a
 * precondition (XEP-0060 §7.1.5): satisfied, or refused with precondition-not-met. Options the
 * node has no opinion on are accepted.
 */
const NODE_CONFIGURATION: Record<string, (value: string) => boolean> = {
  'pubsub#persist_items': (v) => v === 'true' || v === '1',
  // Every chat keeps its item; a numeric limit would evict, which the node never does.
  'pubsub#max_items': (v) => v === 'max',
  'pubsub#send_last_published_item': (v) => v === 'never',
  'pubsub#access_model': (v) => v === 'whitelist',
};

export function checkPublishOptions(form: SubmittedForm | undefined): void {
  if (!form) return;
  if (form.formType !== PUBLISH_OPTIONS_FORM) throw new StanzaError('bad-request', `publish-options have FORM_TYPE ${PUBLISH_OPTIONS_FORM}`);
  for (const [field, satisfied] of Object.entries(NODE_CONFIGURATION)) {
    const value = form.get(field);
    if (value !== undefined && !satisfied(value)) {
      throw new PubsubError('conflict', 'precondition-not-met', undefined, `${field} cannot be ${value} on ${MDS_NODE}`);
    }
  }
}

/** One chat's numbers in the urn:hearth:unread:0 extension. */
export interface ChatCounts {
  peer: string;
  unread: number;
  pointer?: string;
}

/** `<unread xmlns='urn:hearth:unread:0' total=…><chat jid count displayed/></unread>`. */
export function unreadElement(total: number, chats: readonly ChatCounts[]): Element {
  return xml('unread', HEARTH_UNREAD_NS, { total: String(total) },
    ...chats.map((c) => xml('chat', HEARTH_UNREAD_NS, { jid: c.peer, count: String(c.unread), displayed: c.pointer || undefined })));
}
