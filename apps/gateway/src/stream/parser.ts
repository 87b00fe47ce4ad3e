import { SaxesParser, type SaxesTagNS } from 'saxes';
import { Element } from '../xml/element';
import { NS } from '../xml/namespaces';
import { StreamError } from './errors';

export interface ParserLimits {
  /** Largest stanza (or any run of input between two top-level boundaries), in bytes of UTF-8. */
  maxStanzaBytes: number;
  /** Deepest element nesting inside a stanza (the stanza itself is depth 1). */
  maxDepth: number;
}

export interface StreamParserHandlers {
  /** The stream header: `<stream:stream>` (RFC 6120 §4.7) or the WebSocket `<open/>` (RFC 7395 §3.4). */
  streamStart(header: Element): void;
  /** A complete top-level element: a stanza or a nonza (`<starttls/>`, `<auth/>` …). */
  element(element: Element): void;
  /** `</stream:stream>` or the WebSocket `<close/>`. */
  streamEnd(): void;
  error(error: StreamError): void;
}

/**
 * Framing of the XML: "stream" is one XML document per stream (TCP, RFC 6120 §4.2); "framed" is
 * RFC 7395, where every WebSocket message is one complete element and `<open/>`/`<close/>`
 * replace the stream root.
 */
export type Framing = 'stream' | 'framed';

const SLICE = 16 * 1024;
class Abort extends Error {}

/**
 * A hardened streaming parser on saxes. It refuses what RFC 6120 §11.1 restricts (DTDs, hence
 * entity declarations; processing instructions; comments), knows only the five predefined
 * entities and character references (saxes reports any other reference as an error), and caps
 * stanza size and nesting depth so a peer cannot make it buffer without bound. The first problem
 * is reported once as a typed StreamError and parsing stops.
 */
export class StreamParser {
  private readonly sax: SaxesParser<{ xmlns: true }>;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private stack: Element[] = [];
  private depth = 0;
  /** Byte offset in the stream where the current stanza (or run between stanzas) began. */
  private unitStart = 0;
  private failed = false;
  private readonly offsets = new ByteOffsets();

  constructor(
    private readonly framing: Framing,
    private readonly limits: ParserLimits,
    private readonly handlers: StreamParserHandlers,
  ) {
    // In framed mode a virtual root stands for the stream, with jabber:client as its content
    // namespace, so one code path handles both framings.
    this.sax = new SaxesParser({ xmlns: true, position: true });
    this.sax.on('opentag', (tag) => this.openTag(tag));
    this.sax.on('closetag', () => this.closeTag());
    this.sax.on('text', (text) => this.text(text));
    this.sax.on('cdata', (text) => this.text(text));
    this.sax.on('doctype', () => this.fail(new StreamError('restricted-xml', 'DTDs are not allowed')));
    this.sax.on('processinginstruction', () => this.fail(new StreamError('restricted-xml', 'processing instructions are not allowed')));
    this.sax.on('comment', () => this.fail(new StreamError('restricted-xml', 'comments are not allowed')));
    this.sax.on('error', (error) => this.fail(new StreamError('not-well-formed', error.message.replace(/^.*?:\d+:\d+: /, ''))));
    if (framing === 'framed') this.feed(`<framed xmlns="${NS.client}">`);
  }

  write(data: Buffer | string): void {
    if (this.failed) return;
    let text: string;
    try {
      text = typeof data === 'string' ? data : this.decoder.decode(data, { stream: true });
    } catch {
      this.fail(new StreamError('not-well-formed', 'invalid UTF-8'), false);
      return;
    }
    // Feed in slices so the size cap is checked before a huge chunk is buffered whole; a slice
    // never ends between the two halves of a surrogate pair, so each half is not counted apart.
    for (let i = 0; i < text.length && !this.failed;) {
      let end = Math.min(i + SLICE, text.length);
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
      this.feed(text.slice(i, end));
      if (!this.failed) this.checkSize(false);
      i = end;
    }
  }

  private feed(text: string): void {
    this.offsets.next(text);
    try {
      this.sax.write(text);
    } catch (error) {
      if (!(error instanceof Abort)) throw error;
    }
  }

  /** Also checked when a stanza completes, so one that fits in a slice cannot slip past the cap. */
  private checkSize(abort = true): void {
    if (this.offsets.at(this.sax.position) - this.unitStart > this.limits.maxStanzaBytes) {
      this.fail(new StreamError('policy-violation', `stanza larger than ${this.limits.maxStanzaBytes} bytes`), abort);
    }
  }

  private fail(error: StreamError, abort = true): void {
    if (this.failed) return;
    this.failed = true;
    this.stack = [];
    this.handlers.error(error);
    if (abort) throw new Abort();
  }

  private openTag(tag: SaxesTagNS): void {
    if (this.failed) throw new Abort();
    const attrs: Record<string, string> = {};
    for (const attr of Object.values(tag.attributes)) {
      // Namespace declarations are resolved into `ns`; only the stream header keeps its default
      // namespace, which names the stream's content namespace (RFC 6120 §4.8.2).
      if (attr.prefix === 'xmlns' || (attr.name === 'xmlns' && this.depth > 0)) continue;
      attrs[attr.name] = attr.value;
    }
    const element = new Element(tag.local, tag.uri, attrs);
    const depth = this.depth++;
    if (depth === 0) {
      if (this.framing === 'stream') {
        this.unitStart = this.offsets.at(this.sax.position);
        this.handlers.streamStart(element);
      }
      return;
    }
    if (depth > this.limits.maxDepth) this.fail(new StreamError('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`));
    if (depth > 1) this.stack[this.stack.length - 1]!.children.push(element);
    this.stack.push(element);
  }

  private closeTag(): void {
    if (this.failed) throw new Abort();
    const depth = --this.depth;
    if (depth === 0) {
      this.handlers.streamEnd();
      return;
    }
    const element = this.stack.pop()!;
    if (depth > 1) return;
    this.checkSize();
    this.unitStart = this.offsets.at(this.sax.position);
    if (this.framing === 'framed' && element.ns === NS.framing) {
      if (element.name === 'open') return this.handlers.streamStart(element);
      if (element.name === 'close') return this.handlers.streamEnd();
    }
    this.handlers.element(element);
  }

  private text(text: string): void {
    if (this.failed) throw new Abort();
    const current = this.stack[this.stack.length - 1];
    if (current) {
      current.children.push(text);
    } else if (this.depth > 0 && text.trim() !== '') {
      // Between stanzas only whitespace (keepalives) may appear.
      this.fail(new StreamError('bad-format', 'character data at stream level'));
    }
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * Maps saxes positions, which are indexes into the JavaScript text fed so far (UTF-16 code units),
 * to byte offsets in the UTF-8 stream, so the stanza cap is in bytes as configured: a character
 * is one to four bytes but one or two code units. Positions are asked for in increasing order
 * within the slice being fed, so each slice is measured at most once (and not at all when it is
 * ASCII, where units and bytes coincide).
 */
export class ByteOffsets {
  private slice = '';
  private ascii = true;
  /** Stream position (code units) and byte offset where `slice` starts. */
  private sliceUnits = 0;
  private sliceBytes = 0;
  /** Totals fed, including `slice`. */
  private units = 0;
  private bytes = 0;
  /** The last position mapped inside `slice`, to continue from. */
  private markUnits = 0;
  private markBytes = 0;

  /** Records the next slice of text, in stream order, before the parser sees it. */
  next(text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    this.slice = text;
    this.ascii = bytes === text.length;
    this.sliceUnits = this.markUnits = this.units;
    this.sliceBytes = this.markBytes = this.bytes;
    this.units += text.length;
    this.bytes += bytes;
  }

  /** The byte offset of a stream position in the current slice. */
  at(position: number): number {
    const relative = position - this.sliceUnits;
    // Before the slice only a character saxes carried over from the previous one (a CR) can lie.
    if (relative <= 0 || this.ascii) return this.sliceBytes + relative;
    if (position < this.markUnits) {
      this.markUnits = this.sliceUnits;
      this.markBytes = this.sliceBytes;
    }
    this.markBytes += Buffer.byteLength(this.slice.slice(this.markUnits - this.sliceUnits, relative), 'utf8');
    this.markUnits = position;
    return this.markBytes;
  }
}
