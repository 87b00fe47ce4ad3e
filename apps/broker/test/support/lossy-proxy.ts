/**
 * A TCP proxy in front of the broker that loses the answer to chosen requests: it forwards the
 * request, swallows the broker's response and drops the client's connection, as a network
 * failure after the broker acted would. Clients must then retry.
 */
import net from 'node:net';

export interface LossyProxy {
  port: number;
  /** Answers swallowed so far. */
  lost: number;
  /** Every request frame forwarded (size prefix included), for replaying. */
  requests: Buffer[];
  setTarget(port: number): void;
  close(): Promise<void>;
}

class FrameSplitter {
  private buffered = Buffer.alloc(0);
  /** Feeds bytes; returns the complete frames (with their size prefix). */
  push(chunk: Buffer): Buffer[] {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
      const end = 4 + this.buffered.readInt32BE(0);
      frames.push(this.buffered.subarray(0, end));
      this.buffered = this.buffered.subarray(end);
    }
    return frames;
  }
}

/** Loses the answer to the first `count` requests with `apiKey` (count 0: a plain recording proxy). */
export function startLossyProxy(apiKey: number, count: number): Promise<LossyProxy> {
  let target = 0;
  let remaining = count;
  const sockets = new Set<net.Socket>();
  const proxy: LossyProxy = {
    port: 0,
    lost: 0,
    requests: [],
    setTarget: (port) => (target = port),
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    sockets.add(client).add(upstream);
    const doomed = new Set<number>();
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();
    client.on('data', (chunk) => {
      for (const frame of requests.push(chunk)) {
        if (frame.readInt16BE(4) === apiKey && remaining > 0) {
          remaining--;
          doomed.add(frame.readInt32BE(8));
        }
        proxy.requests.push(Buffer.from(frame));
        upstream.write(frame);
      }
    });
    upstream.on('data', (chunk) => {
      for (const frame of responses.push(chunk)) {
        if (doomed.has(frame.readInt32BE(4))) {
          proxy.lost++;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(frame);
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    proxy.port = (server.address() as net.AddressInfo).port;
    resolve(proxy);
  }));
}
