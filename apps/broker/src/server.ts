/**
 * TCP connections speaking Kafka's framing: a 4-byte size, then a request header and body.
 * https://kafka.apache.org/protocol#protocol_common
 *
 * Requests are handed to their API module in arrival order and answered in that same order
 * (clients rely on it), while their waits (durability, long polls, rebalances) overlap.
 * Bad input never reaches further than its own connection: a frame that is oversized,
 * undersized, truncated, or for an API or version we do not implement is logged and that
 * connection is closed (ApiVersions with a newer version gets the v0 UNSUPPORTED_VERSION answer).
 */
import net from 'node:net';
import type { Logger } from '@hearth/runtime';
import type { ApiModule, BrokerServices, ResponseBody } from './protocol/api';
import { API_BY_KEY } from './protocol/api-table';
import { apiVersionsV0 } from './protocol/apis/api-versions';
import { DecodeError, Reader, Writer } from './protocol/codec';
import { ErrorCode } from './protocol/error-codes';

/** api_key + api_version + correlation_id + client_id length. */
const MIN_REQUEST_BYTES = 10;
const API_VERSIONS_KEY = 18;
/** How long a graceful close waits for answers already in progress before dropping connections. */
const CLOSE_GRACE_MS = 2_000;

export interface ServerLimits {
  /** HEARTH_BROKER_MAX_REQUEST_BYTES */
  maxRequestBytes: number;
  /** HEARTH_BROKER_MAX_IN_FLIGHT_PER_CONNECTION */
  maxInFlight: number;
  /** HEARTH_BROKER_IDLE_TIMEOUT_MS */
  idleTimeoutMs: number;
}

interface Slot {
  ready: boolean;
  chunks: Buffer[] | null;
}

class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;
  private readonly queue: Slot[] = [];
  private paused = false;
  private closed = false;
  private readonly abort = new AbortController();
  readonly remote: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly services: BrokerServices,
    private readonly limits: ServerLimits,
    private readonly log: Logger,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs, () => {
      if (this.queue.length > 0) return; // a long poll or a rebalance is still being answered
      this.log.info({ client: this.remote }, 'closing idle connection');
      this.close();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err, client: this.remote }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.abort.abort();
      this.onClose(this);
    });
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.closed) {
      if (this.expected < 0) {
        if (this.buffered < 4) return;
        const size = this.take(4, false).readInt32BE(0);
        if (size < MIN_REQUEST_BYTES || size > this.limits.maxRequestBytes) {
          return this.drop(size > this.limits.maxRequestBytes ? 'request larger than HEARTH_BROKER_MAX_REQUEST_BYTES' : 'request size too small', { size });
        }
        this.take(4, true);
        this.expected = size;
      }
      if (this.buffered < this.expected) return;
      const frame = this.take(this.expected, true);
      this.expected = -1;
      this.dispatch(frame);
    }
  }

  /** The next n buffered bytes (consumed if `consume`), copied only when they span chunks. */
  private take(n: number, consume: boolean): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
      }
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      let i = 0;
      while (filled < n) {
        const c = this.chunks[i]!;
        const part = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, part);
        filled += part;
        if (consume && part === c.length) i++;
        else if (consume) this.chunks[i] = c.subarray(part);
        else i++;
      }
      if (consume) this.chunks.splice(0, i);
    }
    if (consume) this.buffered -= n;
    return out;
  }

  private dispatch(frame: Buffer): void {
    const reader = new Reader(frame);
    const apiKey = reader.int16();
    const version = reader.int16();
    const correlationId = reader.int32();
    let clientId: string | null;
    try {
      clientId = reader.nullableString();
    } catch (error) {
      return this.drop('malformed request header', { apiKey, version, reason: (error as Error).message });
    }
    const api = API_BY_KEY.get(apiKey);
    if (!api) return this.drop('unsupported API key', { apiKey, version, clientId });
    if (version < api.minVersion || version > api.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        // KIP-511: answer in v0 so the client learns our range and retries with it.
        return this.answer(this.enqueue(), correlationId, apiVersionsV0(this.services, ErrorCode.UNSUPPORTED_VERSION), false);
      }
      return this.drop('unsupported API version', { api: api.name, version, supported: `${api.minVersion}-${api.maxVersion}`, clientId });
    }
    const flexible = api.flexibleFrom !== undefined && version >= api.flexibleFrom;
    const slot = this.enqueue();
    const onError = (error: unknown) => this.fail(api, version, error);
    try {
      if (flexible) reader.skipTaggedFields();
      const result = api.handle({
        apiKey, version, correlationId, clientId, clientHost: this.socket.remoteAddress ?? '',
        body: reader, broker: this.services, signal: this.abort.signal,
      });
      // ApiVersions keeps response header v0 even when flexible (KIP-511).
      const flexibleHeader = flexible && apiKey !== API_VERSIONS_KEY;
      if (result instanceof Promise) result.then((body) => this.answer(slot, correlationId, body, flexibleHeader), onError);
      else this.answer(slot, correlationId, result, flexibleHeader);
    } catch (error) {
      onError(error);
    }
  }

  private enqueue(): Slot {
    const slot: Slot = { ready: false, chunks: null };
    this.queue.push(slot);
    if (this.queue.length >= this.limits.maxInFlight && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    return slot;
  }

  private answer(slot: Slot, correlationId: number, body: ResponseBody, flexibleHeader: boolean): void {
    if (body !== null) {
      const header = new Writer();
      const bodyChunks = body.finish();
      const bodyLength = bodyChunks.reduce((n, c) => n + c.length, 0);
      header.int32(4 + (flexibleHeader ? 1 : 0) + bodyLength).int32(correlationId);
      if (flexibleHeader) header.emptyTaggedFields();
      slot.chunks = [...header.finish(), ...bodyChunks];
    }
    slot.ready = true;
    this.flushAnswers();
  }

  private flushAnswers(): void {
    if (this.closed) return;
    let wrote = false;
    while (this.queue.length > 0 && this.queue[0]!.ready) {
      const slot = this.queue.shift()!;
      if (slot.chunks === null) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      for (const c of slot.chunks) this.socket.write(c);
    }
    if (wrote) this.socket.uncork();
    if (this.paused && this.queue.length < this.limits.maxInFlight) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private fail(api: ApiModule, version: number, error: unknown): void {
    if (error instanceof DecodeError) {
      this.drop('malformed request', { api: api.name, version, reason: error.message });
    } else {
      this.log.error({ err: error, api: api.name, version, client: this.remote }, 'request failed; closing connection');
      this.close();
    }
  }

  /** Logs why a client's input was refused and closes that client's connection only. */
  private drop(reason: string, details: Record<string, unknown>): void {
    this.log.warn({ client: this.remote, ...details }, `closing connection: ${reason}`);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.chunks = [];
    this.socket.destroy();
  }

  /** Stops reading; lets answers in progress go out (long polls end at once), then closes. */
  shutdown(): void {
    this.socket.pause();
    this.abort.abort();
  }
}

export class BrokerServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();

  constructor(services: BrokerServices, limits: ServerLimits, log: Logger) {
    this.server = net.createServer((socket) => {
      const connection = new Connection(socket, services, limits, log, (c) => this.connections.delete(c));
      this.connections.add(connection);
      log.debug({ client: connection.remote }, 'client connected');
    });
    this.server.on('error', (err) => log.error({ err }, 'listener error'));
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        const address = this.server.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting, lets answers under way finish (bounded by CLOSE_GRACE_MS), closes the rest. */
  async close(): Promise<void> {
    this.server.close();
    for (const c of this.connections) c.shutdown();
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while ([...this.connections].some((c) => !c.idle) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of this.connections) c.close();
  }
}
