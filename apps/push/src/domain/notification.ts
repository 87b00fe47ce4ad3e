import { createHash } from 'node:crypto';
import type { MessageAccepted, PayloadOf, PubsubItemPublished } from '@hearth/contracts';
import { nickOf, textOf } from './stanza-text';

/**
 * What a device is told, and how it becomes an APNs request (developer.apple.com, "Generating a
 * remote notification" and "Sending notification requests to APNs"). Pure: no I/O.
 */
export type PushKind = 'message' | 'pubsub' | 'badge';

/** Stored in the send log when the push is decided; the badge is added when it is sent. */
export interface PushContent {
  kind: PushKind;
  title?: string;
  body?: string;
  /** aps.thread-id: notifications of one chat are grouped. */
  threadId?: string;
  /** apns-collapse-id: a newer notification with the same id replaces the older one on the device. */
  collapseId?: string;
  /** Custom keys beside `aps`, for the app to fetch what the notification is about. */
  hearth?: Record<string, string>;
}

export interface ContentOptions {
  /** HEARTH_PUSH_BODY_MAX_CHARS: longer text is cut and ends with "…". */
  bodyMaxChars: number;
  /** HEARTH_PUSH_HIDE_BODY: never put message text in a notification. */
  hideBody: boolean;
}

/** Shown instead of the text when HEARTH_PUSH_HIDE_BODY is set (the app's extension may replace it). */
export const HIDDEN_MESSAGE_BODY = 'New message';
export const HIDDEN_PUBSUB_BODY = 'New notification';
/** All badge updates of a device collapse into the latest. */
export const BADGE_COLLAPSE_ID = 'hearth-badge';
/** APNs' limit for the payload of an alert or background notification, in bytes. */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
const ELLIPSIS = '…';

type Message = PayloadOf<typeof MessageAccepted>;
type PubsubItem = PayloadOf<typeof PubsubItemPublished>;

export const localpart = (jid: string): string => (jid.includes('@') ? jid.slice(0, jid.indexOf('@')) : jid);

/** Cuts to `max` characters (code points, so no emoji is split) with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text.trim());
  if (chars.length <= max) return chars.join('');
  return chars.slice(0, Math.max(0, max - 1)).join('').trimEnd() + ELLIPSIS;
}

/** A message: the sender's nickname (XEP-0172) or localpart, the text, grouped by chat. */
export function messageContent(message: Message, eventId: string, options: ContentOptions): PushContent {
  return {
    kind: 'message',
    title: nickOf(message.stanza) ?? localpart(message.sender),
    body: options.hideBody ? HIDDEN_MESSAGE_BODY : truncate(message.body ?? '', options.bodyMaxChars),
    threadId: message.sender,
    hearth: { kind: 'message', eventId, stanzaId: message.stanzaId, sender: message.sender, chat: message.sender },
  };
}

/** A pubsub item: who published, the item's text (or the node), one thread per node. */
export function pubsubContent(item: PubsubItem, eventId: string, options: ContentOptions): PushContent {
  // pubsub#deliver_payloads off: subscribers are told only that there is an item.
  const text = item.deliverPayload ? textOf(item.payload) : '';
  return {
    kind: 'pubsub',
    title: localpart(item.publisher.split('/')[0]!),
    body: options.hideBody ? HIDDEN_PUBSUB_BODY : truncate(text || `New item on ${item.node}`, options.bodyMaxChars),
    threadId: `${item.service} ${item.node}`,
    // A republished item (same id) replaces its earlier notification.
    collapseId: `ps-${createHash('sha256').update(`${item.service}\u0000${item.node}\u0000${item.itemId}`).digest('hex').slice(0, 40)}`,
    hearth: { kind: 'pubsub', eventId, service: item.service, node: item.node, itemId: item.itemId, publisher: item.publisher },
  };
}

export const badgeContent = (): PushContent => ({ kind: 'badge', collapseId: BADGE_COLLAPSE_ID });

export interface ApnsRequestShape {
  pushType: 'alert';
  /** 10 = now (alerts); 5 = when convenient for the device (badge updates). */
  priority: 5 | 10;
  collapseId?: string;
  payload: { aps: Record<string, unknown> } & Record<string, unknown>;
}

/**
 * The APNs request for a content and badge. Alerts: title, body, badge, sound, thread-id and
 * mutable-content (so a notification service extension can fetch the message by its stanza id).
 * A badge update is an alert-type push whose aps holds only the badge, at priority 5: iOS sets
 * the badge silently, and unlike `background` pushes (which may carry nothing but
 * content-available and are throttled) it is not dropped. The body is shortened until the
 * payload fits APNs' 4096 bytes.
 */
export function apnsRequest(content: PushContent, badge: number): ApnsRequestShape {
  if (content.kind === 'badge') {
    return { pushType: 'alert', priority: 5, collapseId: content.collapseId ?? BADGE_COLLAPSE_ID, payload: { aps: { badge } } };
  }
  const build = (body: string | undefined) => ({
    aps: {
      alert: { ...(content.title === undefined ? {} : { title: content.title }), ...(body === undefined ? {} : { body }) },
      badge,
      sound: 'default',
      ...(content.threadId === undefined ? {} : { 'thread-id': content.threadId }),
      'mutable-content': 1,
    },
    ...(content.hearth === undefined ? {} : { hearth: content.hearth }),
  });
  let payload = build(content.body);
  if (content.body !== undefined && Buffer.byteLength(JSON.stringify(payload)) > APNS_MAX_PAYLOAD_BYTES) {
    const room = APNS_MAX_PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify(build('')));
    payload = build(cutToBytes(content.body, room));
  }
  return { pushType: 'alert', priority: 10, ...(content.collapseId === undefined ? {} : { collapseId: content.collapseId }), payload };
}

/** The longest prefix (whole code points) plus "…" whose JSON string content fits `room` bytes. */
function cutToBytes(text: string, room: number): string {
  const ellipsisBytes = Buffer.byteLength(ELLIPSIS);
  let used = 0;
  let cut = '';
  for (const char of text) {
    const bytes = Buffer.byteLength(JSON.stringify(char)) - 2;
    if (used + bytes + ellipsisBytes > room) break;
    used += bytes;
    cut += char;
  }
  return room < ellipsisBytes ? '' : cut + ELLIPSIS;
}

/**
 * The badge a message's notification carries: the total read-state announced for it once its
 * UnreadChanged is applied; otherwise (it has not arrived within HEARTH_PUSH_BADGE_WAIT_MS) the
 * last known total plus this message if it counts as unread.
 */
export function badgeFor(send: { badge: number | null; countsAsUnread: boolean }, lastKnownTotal: number): number {
  if (send.badge !== null) return send.badge;
  return lastKnownTotal + (send.countsAsUnread ? 1 : 0);
}
