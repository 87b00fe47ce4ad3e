import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Transport, TransportSink } from './transport';
import { normaliseAddress } from './socket-transport';

/** XMPP over WebSocket, RFC 7395: one element per message, the `xmpp` sub-protocol. */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly framing = 'framed' as const;
  readonly canStartTls = false;
  readonly remoteAddress: string;
  private sink: TransportSink | null = null;

  constructor(
    private readonly ws: WebSocket,
    socket: Socket,
    readonly secure: boolean,
  ) {
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // RFC 7395 §3.2: XMPP frames are text; binary frames are ignored by the stream.
      if (!isBinary) this.sink?.data(data);
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.sink?.closed());
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  attach(sink: TransportSink): void {
    this.sink = sink;
  }

  write(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error('STARTTLS is not available over WebSocket'));
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}
