/** Test helpers on the log: the events other services append, as they append them. */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import {
  chatKeyOf, createEvent, MessageAccepted, PubsubItemPublished, SessionBound, SessionHibernated, topics, UnreadChanged,
  type Envelope, type PayloadOf,
} from '@hearth/contracts';

let sequence = 0;
export type Message = Envelope<'MessageAccepted', PayloadOf<typeof MessageAccepted>>;

/** A MessageAccepted as messaging appends it when `from` sends `to` a chat message. */
export function chatMessage(from: string, to: string, body: string, extra = ''): Message {
  const n = ++sequence;
  const stanzaId = `sid-${n}-${randomUUID().slice(0, 8)}`;
  const chatKey = chatKeyOf(from, to);
  return createEvent(MessageAccepted, {
    stanzaId, chatKey, sender: from, senderFullJid: `${from}/web`, recipient: to, to, messageType: 'chat', clientMessageId: `origin-${n}`, body,
    stanza: `<message xmlns='jabber:client' from='${from}/web' to='${to}' type='chat' id='origin-${n}'><body>${body}</body>${extra}<stanza-id xmlns='urn:xmpp:sid:0' by='${to}' id='${stanzaId}'/></message>`,
    acceptedAt: new Date().toISOString(), gateway: 'gw-test',
  }, { key: chatKey, producer: 'test' });
}

/** What read-state appends after counting a message (caused by it) or after a pointer moved. */
export function unreadChanged(user: string, peer: string, unread: number, total: number, cause: Envelope | undefined, reason: 'message-arrived' | 'pointer-moved') {
  return createEvent(UnreadChanged, { user, peer, unread, total, reason }, {
    key: user, producer: 'read-state', ...(cause ? { causationId: cause.id } : {}),
  });
}

let sessions = 0;
export function sessionBound(fullJid: string) {
  const user = fullJid.split('/')[0]!;
  const sessionId = `s-${++sessions}`;
  return { sessionId, event: createEvent(SessionBound, { user, fullJid, sessionId, gateway: 'gw-test' }, { key: user, producer: 'gateway' }) };
}

export function sessionHibernated(fullJid: string, sessionId: string) {
  const user = fullJid.split('/')[0]!;
  return createEvent(SessionHibernated, { user, fullJid, sessionId, gateway: 'gw-test', resumableForSeconds: 300 }, { key: user, producer: 'gateway' });
}

export function pubsubItem(publisher: string, node: string, recipients: string[], payload: string) {
  return createEvent(PubsubItemPublished, {
    service: 'pubsub.localhost', node, itemId: `item-${++sequence}`, publisher, payload, deliverPayload: true, persisted: true,
    recipients: recipients.map((jid) => ({ jid, subids: [`sub-${jid}`] })),
  }, { key: node, producer: 'pubsub' });
}

/** Whether the push projection has applied every input topic up to its end (from its database). */
export async function projectionCaughtUp(kafka: Kafka, db: { query(sql: string): Promise<{ rows: unknown[] }> }): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { rows } = await db.query(`SELECT topic, partition, next_offset FROM consumer_checkpoints WHERE consumer = 'push'`);
    const applied = new Map((rows as { topic: string; partition: number; next_offset: string }[]).map((r) => [`${r.topic}:${r.partition}`, BigInt(r.next_offset)]));
    const existing = await admin.listTopics();
    for (const topic of [topics.messages, topics.sessions, topics.pubsub, topics.readState, topics.push, topics.accounts].filter((t) => existing.includes(t))) {
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        if ((applied.get(`${topic}:${partition}`) ?? 0n) < BigInt(high)) return false;
      }
    }
    return true;
  } finally {
    await admin.disconnect();
  }
}

export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A random APNs device token (32 bytes, hex). */
export const deviceToken = (): string => randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
