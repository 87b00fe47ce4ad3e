import { SaxesParser } from 'saxes';

/** XEP-0172 User Nickname: `<nick xmlns='http://jabber.org/protocol/nick'>` in a message. */
const NICK_NS = 'http://jabber.org/protocol/nick';

/** The sender's nickname (XEP-0172 §4.2, in the message stanza), if it carries one. */
export function nickOf(stanza: string): string | undefined {
  let nick: string | undefined;
  let depth = 0;
  let inNick = false;
  let text = '';
  parse(stanza, {
    open: (name, ns) => {
      depth++;
      if (depth === 2 && name === 'nick' && ns === NICK_NS) inNick = true;
    },
    text: (t) => {
      if (inNick) text += t;
    },
    close: () => {
      if (inNick && depth === 2) {
        nick = text.trim() || undefined;
        inNick = false;
      }
      depth--;
    },
  });
  return nick;
}

/** The character data of an XML fragment (a pubsub item's payload), whitespace collapsed. */
export function textOf(xml: string): string {
  let text = '';
  parse(xml, { text: (t) => (text += ` ${t}`) });
  return text.replace(/\s+/g, ' ').trim();
}

interface Handlers {
  open?(name: string, ns: string): void;
  text?(text: string): void;
  close?(): void;
}

/** Parses well-formed XML; anything malformed just ends the walk (the text is only for display). */
function parse(xml: string, handlers: Handlers): void {
  const parser = new SaxesParser({ xmlns: true, fragment: true });
  parser.on('opentag', (tag) => handlers.open?.(tag.local, tag.uri));
  parser.on('text', (t) => handlers.text?.(t));
  parser.on('closetag', () => handlers.close?.());
  try {
    parser.write(xml).close();
  } catch {
    /* malformed: keep what was read */
  }
}
