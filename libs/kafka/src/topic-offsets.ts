import type { Admin } from 'kafkajs';

/** The next offset to be written, per partition of `topic`; empty if the topic does not exist yet. */
export async function topicEndOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  // Asking for a topic that does not exist makes kafkajs retry for many seconds: look first.
  if (!(await admin.listTopics()).includes(topic)) return new Map();
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
}
