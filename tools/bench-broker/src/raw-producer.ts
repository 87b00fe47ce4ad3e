/**
 * Produce throughput of the broker alone: one stored batch is fetched back over the Kafka
 * protocol and then re-sent as is in Produce v3 requests (acks=-1), many in flight on one
 * connection, round-robin over the partitions. The broker validates and appends every copy
 * (CRC check, offset assignment, group commit), so only the client's encoding cost is left out.
 * https://kafka.apache.org/protocol#The_Messages_Produce
 */
import net from 'node:net';

const FETCH = 1;
const PRODUCE = 0;

function frame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('bench-raw');
  const header = Buffer.alloc(14);
  header.writeInt32BE(10 + clientId.length + body.length, 0);
  header.writeInt16BE(apiKey, 4);
  header.writeInt16BE(version, 6);
  header.writeInt32BE(correlationId, 8);
  header.writeInt16BE(clientId.length, 12);
  return Buffer.concat([header, clientId, body]);
}

function str(s: string): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(s));
  b.writeInt16BE(Buffer.byteLength(s));
  b.write(s, 2);
  return b;
}
function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}
function i64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
}

/** Response frames of one connection, by arrival (the broker answers in request order). */
class Responses {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly waiting: ((frame: Buffer) => void)[] = [];
  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const body = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.(body);
      }
    });
  }
  next(): Promise<Buffer> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** Fetch v4 of partition 0 from offset 0: the bytes of the first stored batch of `records` records. */
async function storedBatch(socket: net.Socket, responses: Responses, topic: string, records: number): Promise<Buffer> {
  const body = Buffer.concat([
    i32(-1), i32(100), i32(1), i32(1 << 20), Buffer.from([0]),
    i32(1), str(topic), i32(1), i32(0), i64(0), i32(1 << 20),
  ]);
  const answer = responses.next();
  socket.write(frame(FETCH, 4, 1, body));
  const r = await answer;
  // correlation, throttle, [topic] count, name, [partition] count, index, error, hw, lso, aborted[]
  let at = 4 + 4 + 4;
  at += 2 + r.readInt16BE(at);
  at += 4 + 4;
  const error = r.readInt16BE(at);
  if (error !== 0) throw new Error(`fetch failed with error ${error}`);
  at += 2 + 8 + 8;
  const aborted = r.readInt32BE(at);
  at += 4 + Math.max(0, aborted) * 16;
  const recordsLength = r.readInt32BE(at);
  const set = r.subarray(at + 4, at + 4 + recordsLength);
  for (let start = 0; start + 61 <= set.length; start += 12 + set.readInt32BE(start + 8)) {
    const size = 12 + set.readInt32BE(start + 8);
    if (start + size <= set.length && set.readInt32BE(start + 57) === records) return Buffer.from(set.subarray(start, start + size));
  }
  throw new Error(`no stored batch of ${records} records at the start of ${topic}/0`);
}

export async function rawProduceThroughput(
  port: number, topic: string, partitions: number, records: number, inFlight: number, batchRecords: number,
): Promise<{ records: number; seconds: number }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.setNoDelay(true);
  const responses = new Responses(socket);
  const batch = await storedBatch(socket, responses, topic, batchRecords);
  const perBatch = batch.readInt32BE(57);
  const requests = Array.from({ length: partitions }, (_, p) =>
    Buffer.concat([
      Buffer.from([0xff, 0xff]), Buffer.from([0xff, 0xff]), i32(30_000), // transactional_id null, acks -1, timeout
      i32(1), str(topic), i32(1), i32(p), i32(batch.length), batch,
    ]),
  );
  const total = Math.ceil(records / perBatch);
  let sent = 0;
  let acked = 0;
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const sendOne = () => {
      const body = requests[sent % partitions]!;
      sent++;
      socket.write(frame(PRODUCE, 3, 1000 + sent, body));
      void responses.next().then((r) => {
        // correlation, [topic] count, name, [partition] count, index, error
        const at = 4 + 4 + 2 + r.readInt16BE(8) + 4 + 4;
        const error = r.readInt16BE(at);
        if (error !== 0) return reject(new Error(`produce failed with error ${error}`));
        acked++;
        if (sent < total) sendOne();
        else if (acked === total) resolve();
      });
    };
    for (let i = 0; i < Math.min(inFlight, total); i++) sendOne();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  socket.destroy();
  return { records: acked * perBatch, seconds };
}
