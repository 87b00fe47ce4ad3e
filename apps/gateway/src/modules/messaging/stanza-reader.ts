import { StreamError } from '../../stream/errors';
import { StreamParser } from '../../stream/parser';
import type { Element } from '../../xml/element';

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
