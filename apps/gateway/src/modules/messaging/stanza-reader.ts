import { StreamError } from '../../stream/errors';
import { StreamParser } from '../../stream/parser';
import type { Element } from '../../xml/element';
import type { SerializedStanza } from '../../sessions/session';

/** Stanzas in the log were written by a gateway from a parsed stanza, so these bounds are generous. */
const LIMITS = { maxStanzaBytes: 4 * 1024 * 1024, maxDepth: 64 };

/**
 * Turns a serialised stanza from a MessageAccepted back into an element, with the gateway's own
 * hardened parser in RFC 7395 framing (one complete element per write). One parser is reused
 * while it is healthy.
 */
export class StanzaReader {
  private parser: StreamParser | null = null;
  private last: Element | null = null;
  private failure: StreamError | null = null;

  read(serialised: string): Element {
    this.parser ??= new StreamParser('framed', LIMITS, {
      streamStart: () => undefined,
      element: (element) => (this.last = element),
      streamEnd: () => undefined,
      error: (error) => (this.failure = error),
    });
    this.last = null;
    this.parser.write(serialised);
    const element = this.last as Element | null;
    if (this.failure || !element) {
      const reason = this.failure?.message ?? 'incomplete element';
      this.parser = null;
      this.failure = null;
      throw new Error(`unreadable stanza in the log: ${reason}`);
    }
    return element;
  }
}

/**
 * A stanza as the log holds it (serialised by Element.toString with no namespace in scope), parsed
 * only when something needs the element: a session with XEP-0198 (which keeps what it sends) or
 * a carbon copy. Plain delivery writes the text as it is, and parsing every delivered message
 * again was the largest single cost of delivery.
 */
export class LoggedStanza implements SerializedStanza {
  private parsed: Element | null = null;

  constructor(
    readonly name: string,
    private readonly serialised: string,
    private readonly reader: StanzaReader,
  ) {}

  element(): Element {
    return (this.parsed ??= this.reader.read(this.serialised));
  }

  text(streamNs: string): string | undefined {
    if (streamNs === '') return this.serialised;
    // In a stream whose content namespace is the stanza's, the root's xmlns is left out, as
    // Element.toString does; any other shape is serialised from the element.
    const declared = `<${this.name} xmlns="${streamNs}"`;
    return this.serialised.startsWith(declared) ? `<${this.name}${this.serialised.slice(declared.length)}` : undefined;
  }
}
