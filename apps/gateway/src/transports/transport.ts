import type { Framing } from '../stream/parser';

/** What a transport reports to the connection core. */
export interface TransportSink {
  data(chunk: Buffer | string): void;
  /** The transport is gone (peer closed, reset, or we closed it). Called once. */
  closed(): void;
}

/**
 * One client connection's byte pipe. TCP, direct TLS and WebSocket implement it; everything
 * above (streams, SASL, sessions) is shared, as in xmpp.js's connection core.
 */
export interface Transport {
  readonly kind: 'tcp' | 'tls' | 'websocket';
  readonly framing: Framing;
  readonly remoteAddress: string;
  /** TLS protects the connection (direct TLS, STARTTLS done, wss, or ws declared secure by configuration). */
  readonly secure: boolean;
  /** STARTTLS is possible (plain TCP not yet upgraded). */
  readonly canStartTls: boolean;
  attach(sink: TransportSink): void;
  write(text: string): void;
  /** Bytes queued for the peer and not yet written; used to cut off consumers that stop reading. */
  readonly bufferedBytes: number;
  /** Upgrades to TLS in place (RFC 6120 §5.4.3.3); resolves once the handshake completed. */
  startTls(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Ends the connection after queued data is flushed. */
  end(): void;
  destroy(): void;
}
