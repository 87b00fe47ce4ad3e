import { randomBytes } from 'node:crypto';
import type { Logger } from '@hearth/runtime';
import { countStanza } from '../metrics/gateway-metrics';
import type { SerializedStanza, Session } from '../sessions/session';
import type { Transport, TransportSink } from '../transports/transport';
import { Element, escapeAttr } from '../xml/element';
import type { Jid } from '../xml/jid';
import { NS } from '../xml/namespaces';
import { StreamError, type StreamErrorCondition } from './errors';
import { StreamParser, type ParserLimits } from './parser';

/** Where a stream is in RFC 6120's negotiation (§4.3): TLS/SASL, then resource binding, then stanzas. */
export type StreamStage = 'negotiating' | 'authenticated' | 'bound' | 'closed';

export interface ConnectionLimits extends ParserLimits {
  readRateBytesPerSec: number;
  readBurstBytes: number;
  maxOutboundBytes: number;
}

/** What the connection core needs from the server around it (the router implements it). */
export interface ConnectionHost {
  readonly logger: Logger;
  readonly limits: ConnectionLimits;
  isLocalDomain(domain: string): boolean;
  /** `<stream:features/>` children for the connection's current stage. */
  features(connection: C2SConnection): Element[];
  /** Handles one top-level element; protocol problems come back as rejected StreamErrors. */
  element(connection: C2SConnection, element: Element): Promise<void>;
  closed(connection: C2SConnection): void;
}

/** Elements queued for handling before the transport is paused (stanzas are handled in order). */
const MAX_QUEUED_ELEMENTS = 64;

/**
 * The connection core shared by TCP, direct TLS and WebSocket (like xmpp.js's connection): one
 * XML stream per transport, restarted after STARTTLS and SASL, with stanzas handled strictly in
 * order. Protocol errors end as a `<stream:error/>` and a closed stream; nothing throws into the
 * socket.
 */
export class C2SConnection implements TransportSink {
  readonly id = randomBytes(9).toString('base64url');
  readonly createdAt = Date.now();
  stage: StreamStage = 'negotiating';
  /** The stream's `to` domain, once the header arrived. */
  domain: string | null = null;
  /** The authenticated account (bare JID). */
  account: Jid | null = null;
  session: Session | null = null;
  /** Failed SASL attempts on this stream (RFC 6120 §6.4.5). */
  authFailures = 0;
  /** Module state for a connection (e.g. a running SASL exchange), keyed by module. */
  readonly state = new Map<string, unknown>();
  lastReceivedAt = Date.now();
  pingSentAt: number | null = null;
  /**
   * Why the stream was closed: the stream error condition sent, 'stream-closed' for a clean close
   * (the client's `</stream:stream>` or ours), null while open or when the transport just dropped.
   */
  closeCondition: StreamErrorCondition | 'stream-closed' | null = null;

  private parser: StreamParser;
  private headerSent = false;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private pausedFor = new Set<'queue' | 'rate'>();

  constructor(
    readonly transport: Transport,
    private readonly host: ConnectionHost,
  ) {
    this.tokens = host.limits.readBurstBytes;
    this.parser = this.newParser();
    transport.attach(this);
  }

  get secure(): boolean {
    return this.transport.secure;
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  // TransportSink

  data(chunk: Buffer | string): void {
    if (this.stage === 'closed') return;
    this.lastReceivedAt = Date.now();
    this.pingSentAt = null;
    this.throttle(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
    this.parser.write(chunk);
  }

  closed(): void {
    if (this.stage !== 'closed') this.stage = 'closed';
    this.host.closed(this);
  }

  // Sending

  /** Sends a top-level element: a stanza (jabber:client), a nonza, or a stream-level element. */
  send(element: Element): void {
    if (this.stage === 'closed') return;
    countStanza('out', element);
    this.write(this.serialize(element));
  }

  /** Sends a stanza that is already text (delivery from the log), without parsing it again. */
  sendSerialized(stanza: SerializedStanza): void {
    const text = stanza.text(this.transport.framing === 'framed' ? '' : NS.client);
    if (text === undefined) return this.send(stanza.element());
    if (this.stage === 'closed') return;
    countStanza('out', stanza);
    this.write(text);
  }

  private write(text: string): void {
    this.transport.write(text);
    if (this.transport.bufferedBytes > this.host.limits.maxOutboundBytes) {
      this.host.logger.warn({ stream: this.id, jid: this.session?.jid.toString() }, 'client not reading: outbound buffer over limit, dropping connection');
      this.stage = 'closed';
      this.transport.destroy();
    }
  }

  /** RFC 6120 §4.3.3: after STARTTLS and after SASL success both sides start a new stream. */
  restartStream(): void {
    this.headerSent = false;
    this.parser = this.newParser();
  }

  /** Closes the stream, with a stream error first when given (RFC 6120 §4.9.1.1). */
  close(error?: StreamError): void {
    if (this.stage === 'closed') return;
    this.closeCondition = error?.condition ?? 'stream-closed';
    if (error) {
      if (!this.headerSent) this.sendHeader(this.domain ?? undefined);
      this.send(error.toElement());
      this.host.logger.info({ stream: this.id, condition: error.condition, reason: error.text, remote: this.remoteAddress }, 'closing stream with error');
    }
    this.transport.write(this.transport.framing === 'framed' ? `<close xmlns="${NS.framing}"/>` : '</stream:stream>');
    this.stage = 'closed';
    this.transport.end();
  }

  async startTls(): Promise<void> {
    await this.transport.startTls();
    this.restartStream();
  }

  // Parsing

  private newParser(): StreamParser {
    return new StreamParser(this.transport.framing, this.host.limits, {
      streamStart: (header) => this.streamStart(header),
      element: (element) => this.enqueue(element),
      streamEnd: () => this.enqueue(null),
      error: (error) => this.close(error),
    });
  }

  private streamStart(header: Element): void {
    try {
      this.checkHeader(header);
    } catch (error) {
      if (error instanceof StreamError) return this.close(error);
      throw error;
    }
    this.sendHeader(this.domain!);
    this.send(new Element('features', NS.stream).append(...this.host.features(this)));
  }

  /** RFC 6120 §4.7 / RFC 7395 §3.4: namespaces, version, and a `to` this server hosts. */
  private checkHeader(header: Element): void {
    const framed = this.transport.framing === 'framed';
    if (!framed && (!header.is('stream', NS.stream) || header.attr('xmlns') !== NS.client)) {
      throw new StreamError('invalid-namespace');
    }
    const version = header.attr('version') ?? '0.9';
    if (!/^1\.\d+$/.test(version)) throw new StreamError('unsupported-version', 'version 1.0 is required');
    const to = (header.attr('to') ?? '').toLowerCase();
    if (!this.host.isLocalDomain(to)) throw new StreamError('host-unknown', to ? undefined : 'the stream header has no "to"');
    if (this.domain !== null && this.domain !== to) throw new StreamError('host-unknown', 'the domain changed on stream restart');
    this.domain = to;
  }

  private sendHeader(domain: string | undefined): void {
    this.headerSent = true;
    const from = domain ? ` from="${escapeAttr(domain)}"` : '';
    this.transport.write(this.transport.framing === 'framed'
      ? `<open xmlns="${NS.framing}" id="${this.id}"${from} version="1.0" xml:lang="en"/>`
      : `<?xml version='1.0'?><stream:stream xmlns="${NS.client}" xmlns:stream="${NS.stream}" id="${this.id}"${from} version="1.0" xml:lang="en">`);
  }

  private serialize(element: Element): string {
    const framed = this.transport.framing === 'framed';
    if (element.ns !== NS.stream) return element.toString(framed ? '' : NS.client);
    // Stream-level elements keep the conventional `stream:` prefix some clients match on.
    const declaration = framed ? ` xmlns:stream="${NS.stream}"` : '';
    const attrs = Object.entries(element.attrs).map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
    const inner = element.children.map((c) => (typeof c === 'string' ? c : c.toString(NS.stream))).join('');
    return `<stream:${element.name}${declaration}${attrs}>${inner}</stream:${element.name}>`;
  }

  /** Handles elements one after another; a slow handler (database) pauses reading, not ordering. */
  private enqueue(element: Element | null): void {
    this.queued += 1;
    if (this.queued > MAX_QUEUED_ELEMENTS) this.pause('queue');
    this.queue = this.queue.then(async () => {
      try {
        if (this.stage === 'closed') return;
        if (element === null) return this.close();
        countStanza('in', element);
        await this.host.element(this, element);
      } catch (error) {
        if (error instanceof StreamError) return this.close(error);
        this.host.logger.error({ err: error, stream: this.id }, 'unexpected error handling an element');
        this.close(new StreamError('internal-server-error'));
      } finally {
        this.queued -= 1;
        if (this.queued <= MAX_QUEUED_ELEMENTS / 2) this.unpause('queue');
      }
    });
  }

  /** A token bucket on bytes read: a fast sender is slowed down by pausing its socket, not dropped. */
  private throttle(bytes: number): void {
    const { readRateBytesPerSec: rate, readBurstBytes: burst } = this.host.limits;
    const now = Date.now();
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) * rate) / 1000) - bytes;
    this.lastRefill = now;
    if (this.tokens >= 0 || this.pausedFor.has('rate')) return;
    this.pause('rate');
    setTimeout(() => this.unpause('rate'), Math.ceil((-this.tokens / rate) * 1000)).unref();
  }

  private pause(reason: 'queue' | 'rate'): void {
    if (this.pausedFor.size === 0) this.transport.pause();
    this.pausedFor.add(reason);
  }

  private unpause(reason: 'queue' | 'rate'): void {
    if (!this.pausedFor.delete(reason) || this.pausedFor.size > 0 || this.stage === 'closed') return;
    this.transport.resume();
  }
}
