import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Transport, TransportSink } from './transport';

/** How long a half-closed socket may linger before it is destroyed. */
const END_GRACE_MS = 2_000;

/**
 * TCP (port 5222, RFC 6120 §3) and direct TLS (port 5223, XEP-0368) share this transport; they
 * differ only in whether the socket starts encrypted.
 */
export class SocketTransport implements Transport {
  readonly framing = 'stream' as const;
  readonly remoteAddress: string;
  private sink: TransportSink | null = null;
  private closedOnce = false;
  private corked = false;

  constructor(
    readonly kind: 'tcp' | 'tls',
    private socket: Socket,
    private readonly secureContext: () => SecureContext,
  ) {
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    socket.setNoDelay(true);
    this.listen(socket);
  }

  get secure(): boolean {
    return this.socket instanceof TLSSocket;
  }

  get canStartTls(): boolean {
    return !this.secure;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  attach(sink: TransportSink): void {
    this.sink = sink;
  }

  write(text: string): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    // Everything written to this client in one tick (a batch of delivered messages, a reply and
    // its carbons) leaves as one TLS record and one syscall instead of one each: corked until
    // the current tick's work is done.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(text);
  }

  startTls(): Promise<void> {
    const raw = this.socket;
    // `<proceed/>` must reach the wire in clear before the TLS layer takes the socket over.
    if (this.corked) {
      this.corked = false;
      raw.uncork();
    }
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    const tlsSocket = new TLSSocket(raw, { isServer: true, secureContext: this.secureContext() });
    this.socket = tlsSocket;
    this.listen(tlsSocket);
    return new Promise((resolve, reject) => {
      tlsSocket.once('secure', () => resolve());
      tlsSocket.once('error', reject);
    });
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    const socket = this.socket;
    socket.end();
    setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.sink?.data(chunk));
    socket.on('error', () => socket.destroy()); // the close event follows; errors are peers going away
    socket.on('close', () => {
      if (this.closedOnce) return;
      this.closedOnce = true;
      this.sink?.closed();
    });
  }
}

export function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
