import { StreamParser, type ParserLimits } from '../../stream/parser';
import type { Element } from '../../xml/element';

/**
 * Parses a message as the archive stored it (the stanza as delivered, `xmlns='jabber:client'`)
 * back into an element, with the same hardened parser as client input: the archive is another
 * service, and its text goes into a client's stream. Returns undefined when it does not parse.
 */
export function parseArchivedStanza(text: string, limits: ParserLimits): Element | undefined {
  let parsed: Element | undefined;
  let failed = false;
  const parser = new StreamParser('framed', limits, {
    streamStart: () => undefined,
    streamEnd: () => undefined,
    element: (element) => {
      if (parsed) failed = true; // exactly one element
      parsed = element;
    },
    error: () => {
      failed = true;
    },
  });
  parser.write(text);
  return failed || !parsed?.is('message') ? undefined : parsed;
}
