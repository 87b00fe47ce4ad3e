/** Test helpers on the log: chat messages as the messaging service appends them, and what read-state announces. */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import {
  chatKeyOf, createEvent, decodeEvent, isEvent, MessageAccepted, topics, UnreadChanged, type Envelope, type PayloadOf,
} from '@hearth/contracts';

let sequence = 0;

/** A MessageAccepted as messaging appends it when `from` sends `to` a chat message. */
export function chatMessage(from: string, to: string, body: string | undefined = `message ${sequence + 1}`): Envelope<'MessageAccepted', PayloadOf<typeof MessageAccepted>> {
  const n = ++sequence;
  const stanzaId = `sid-${n}-${randomUUID().slice(0, 8)}`;
  const chatKey = chatKeyOf(from, to);
  return createEvent(MessageAccepted, {
    stanzaId, chatKey, sender: from, senderFullJid: `${from}/phone`, recipient: to, to, messageType: 'chat',
    clientMessageId: `origin-${n}`, ...(body === undefined ? {} : { body }),
    stanza: `<message xmlns='jabber:client' from='${from}/phone' to='${to}' type='chat' id='origin-${n}'>${body === undefined ? '' : `<body>${body}</body>`}<stanza-id xmlns='urn:xmpp:sid:0' by='${to}' id='${stanzaId}'/></message>`,
    acceptedAt: new Date().toISOString(), gateway: 'gw-test',
  }, { key: chatKey, producer: 'test' });
}

export type Notification = PayloadOf<typeof UnreadChanged> & { id: string };

/**
 * Everything on hearth.read-state, in order: what the gateway would deliver to the user's
 * sessions (UnreadChanged) and the pointer moves.
 */
export class ReadStateTopic {
  readonly events: Envelope[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly consumer: Consumer) {}

  static async watch(kafka: Kafka): Promise<ReadStateTopic> {
    const consumer = kafka.consumer({ groupId: `test-watch-${randomUUID()}`, sessionTimeout: 6_000, heartbeatInterval: 1_000 });
    const topic = new ReadStateTopic(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: topics.readState, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        topic.events.push(decodeEvent(message.value));
        for (const listener of topic.listeners) listener();
      },
    });
    return topic;
  }

  notifications(): Notification[] {
    return this.events.filter((e) => isEvent(e, UnreadChanged)).map((e) => ({ ...(e.payload as PayloadOf<typeof UnreadChanged>), id: e.id }));
  }

  /** A position to wait from: only notifications after it count. */
  mark(): number {
    return this.events.length;
  }

  /** The first UnreadChanged after `from` that matches. */
  async nextNotification(from: number, match: (n: Notification) => boolean, what: string, timeoutMs = 15_000): Promise<Notification> {
    const find = () => this.events.slice(from).filter((e) => isEvent(e, UnreadChanged))
      .map((e) => ({ ...(e.payload as PayloadOf<typeof UnreadChanged>), id: e.id })).find(match);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no notification: ${what}; saw ${JSON.stringify(this.notifications().slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 200);
        function done() {
          clearTimeout(timer);
          listeners.delete(done);
          resolve();
        }
        const listeners = this.listeners;
        listeners.add(done);
      });
    }
  }

  count(type: string): number {
    return this.events.filter((e) => e.type === type).length;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether read-state's projection has applied both its input topics up to their ends (read from its database). */
export async function projectionCaughtUp(kafka: Kafka, db: { query(sql: string): Promise<{ rows: unknown[] }> }): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { rows } = await db.query(`SELECT topic, partition, next_offset FROM consumer_checkpoints WHERE consumer = 'read-state'`);
    const applied = new Map((rows as { topic: string; partition: number; next_offset: string }[])
      .map((r) => [`${r.topic}:${r.partition}`, BigInt(r.next_offset)]));
    const existing = await admin.listTopics();
    for (const topic of [topics.messages, topics.readState].filter((t) => existing.includes(t))) {
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        if ((applied.get(`${topic}:${partition}`) ?? 0n) < BigInt(high)) return false;
      }
    }
    return true;
  } finally {
    await admin.disconnect();
  }
}

/** Every event of a topic with where it is, read from the start up to the current end. */
export async function readTopic(kafka: Kafka, topic: string): Promise<{ event: Envelope; partition: number; offset: number }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, Number(e.high)]));
  const read: { event: Envelope; partition: number; offset: number }[] = [];
  if (remaining.size === 0) return read;
  const consumer = kafka.consumer({ groupId: `test-read-${randomUUID()}`, sessionTimeout: 6_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        if (offset < (remaining.get(partition) ?? 0)) read.push({ event: decodeEvent(message.value), partition, offset });
        if (offset + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
        if (remaining.size === 0) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return read;
}
