/**
 * One consumer-group member in its own process (so a test can kill -9 it): consumes a topic
 * with kafkajs, commits each record's offset before counting it, and reports on stdout as JSON
 * lines: {"event":"assigned",...} after each rebalance, {"event":"committed",...} per record.
 *
 * Usage: node group-member.js <broker> <topic> <group> <name>
 */
import { Kafka, logLevel } from 'kafkajs';

const [broker, topic, groupId, name] = process.argv.slice(2) as [string, string, string, string];
const say = (line: object) => process.stdout.write(JSON.stringify({ member: name, ...line }) + '\n');

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: name, brokers: [broker], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 50, retries: 30 } });
  const consumer = kafka.consumer({
    groupId, sessionTimeout: 2000, rebalanceTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 100,
    retry: { initialRetryTime: 50, retries: 30 },
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => say({ event: 'assigned', generation: e.payload.groupId, partitions: e.payload.memberAssignment[topic] ?? [] }));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
      say({ event: 'committed', partition, offset: Number(message.offset), value: message.value!.toString() });
    },
  });
  const stop = () => void consumer.disconnect().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${name}: ${String(error)}\n`);
  process.exit(1);
});
