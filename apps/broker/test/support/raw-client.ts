/**
 * A minimal Kafka-protocol client over a raw socket, for tests that must send exact bytes
 * (retried batches, malformed frames) without a client library in between.
 */
import net from 'node:net';
import { Reader, Writer } from '../../src/protocol/codec';

export class RawClient {
  private buffered = Buffer.alloc(0);
  private readonly waiting = new Map<number, (body: Reader) => void>();
  private nextCorrelation = 1;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) return;
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const reader = new Reader(frame);
        const correlationId = reader.int32();
        this.waiting.get(correlationId)?.(reader);
        this.waiting.delete(correlationId);
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request with header v1 and resolves with the response body (after the correlation id). */
  request(apiKey: number, version: number, body: (w: Writer) => void, timeoutMs = 5000): Promise<Reader> {
    const correlationId = this.nextCorrelation++;
    const w = new Writer().int16(apiKey).int16(version).int32(correlationId).nullableString('raw-test');
    body(w);
    const chunks = w.finish();
    const size = chunks.reduce((n, c) => n + c.length, 0);
    const header = Buffer.alloc(4);
    header.writeInt32BE(size);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to api ${apiKey} v${version} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(correlationId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.closed.then(() => {
        clearTimeout(timer);
        reject(new Error('connection closed'));
      });
      this.socket.write(Buffer.concat([header, ...chunks]));
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}
