import type { Element } from '../../xml/element';

/** XEP-0198 §4: `h` counts modulo 2^32 (it "wraps around" to zero). */
export const H_MODULUS = 2 ** 32;

/** Parses an `h` attribute: an unsigned 32-bit integer, or null. */
export function parseH(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return null;
  const h = Number(value);
  return h < H_MODULUS ? h : null;
}

/**
 * One session's stream management state (XEP-0198 §4): how many of the client's stanzas were
 * handled (the `h` we report), how many we sent, and the sent stanzas not yet acknowledged, in
 * order, kept for redelivery on resumption (§5). Pure bookkeeping: timers live in the module.
 */
export class StreamState {
  /** Stanzas from the client whose handling completed (for messages: appended to the log). */
  handled = 0;
  /** Stanzas sent to the client since enable, modulo 2^32. */
  sent = 0;
  /** The last `h` the client reported; `sent - acked` is always `unacked.length`. */
  private acked = 0;
  readonly unacked: Element[] = [];
  /** Stanzas sent since the last `<r/>` we sent. */
  sinceRequest = 0;
  /** An `<r/>` is queued to follow the stanzas being written now. */
  requestQueued = false;
  requestTimer: NodeJS.Timeout | null = null;
  expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    /** The resumption id (`<enabled id/>`, `<resume previd/>`). */
    readonly id: string,
    /** Seconds the session waits for resumption after its stream broke; 0: not resumable. */
    readonly resumeSeconds: number,
  ) {}

  get resumable(): boolean {
    return this.resumeSeconds > 0;
  }

  countHandled(): void {
    this.handled = (this.handled + 1) % H_MODULUS;
  }

  /** Counts a stanza sent to the client and keeps it until acknowledged. */
  sentStanza(stanza: Element): void {
    this.sent = (this.sent + 1) % H_MODULUS;
    this.sinceRequest += 1;
    this.unacked.push(stanza);
  }

  /**
   * Applies the client's `h` (from `<a/>` or `<resume/>`): drops the stanzas it acknowledges and
   * returns them, or returns null when `h` acknowledges more than was sent (§4 handled-count-too-high).
   */
  acknowledge(h: number): Element[] | null {
    const count = (h - this.acked + H_MODULUS) % H_MODULUS;
    if (count > this.unacked.length) return null;
    this.acked = h;
    return this.unacked.splice(0, count);
  }

  clearTimers(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.requestTimer = null;
    this.expiryTimer = null;
  }
}
