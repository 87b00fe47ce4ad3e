/**
 * A small immutable-by-convention XML element tree for stanzas. Each element knows its resolved
 * namespace (`ns`), so handlers match on (namespace, local name) as RFC 6120 §4.8 requires,
 * never on prefixes. Serialisation declares `xmlns` only where it differs from the parent's.
 */
export type Node = Element | string;

export class Element {
  readonly children: Node[] = [];

  constructor(
    readonly name: string,
    readonly ns: string,
    readonly attrs: Record<string, string> = {},
  ) {}

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  append(...nodes: Array<Node | undefined | null | false>): this {
    for (const node of nodes) if (node !== undefined && node !== null && node !== false) this.children.push(node);
    return this;
  }

  elements(): Element[] {
    return this.children.filter((c): c is Element => typeof c !== 'string');
  }

  child(name: string, ns?: string): Element | undefined {
    return this.elements().find((c) => c.name === name && (ns === undefined || c.ns === ns));
  }

  childrenNamed(name: string, ns?: string): Element[] {
    return this.elements().filter((c) => c.name === name && (ns === undefined || c.ns === ns));
  }

  text(): string {
    return this.children.filter((c): c is string => typeof c === 'string').join('');
  }

  childText(name: string, ns?: string): string | undefined {
    return this.child(name, ns)?.text();
  }

  is(name: string, ns?: string): boolean {
    return this.name === name && (ns === undefined || this.ns === ns);
  }

  /** A shallow copy with changed attributes, sharing children (stanzas are re-addressed, not rebuilt). */
  withAttrs(changes: Record<string, string | undefined>): Element {
    const attrs: Record<string, string> = { ...this.attrs };
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete attrs[key];
      else attrs[key] = value;
    }
    const copy = new Element(this.name, this.ns, attrs);
    copy.children.push(...this.children);
    return copy;
  }

  /** Serialises with `parentNs` as the namespace in scope (the stream's content namespace for stanzas). */
  toString(parentNs = ''): string {
    let out = `<${this.name}`;
    if (this.ns !== parentNs) out += ` xmlns="${escapeAttr(this.ns)}"`;
    for (const [key, value] of Object.entries(this.attrs)) out += ` ${key}="${escapeAttr(value)}"`;
    if (this.children.length === 0) return `${out}/>`;
    out += '>';
    for (const child of this.children) out += typeof child === 'string' ? escapeText(child) : child.toString(this.ns);
    return `${out}</${this.name}>`;
  }
}

/** Builds an element: `xml('iq', NS, { type: 'result' }, xml('query', NS_ROSTER))`. */
export function xml(name: string, ns: string, attrs: Record<string, string | undefined> = {}, ...children: Array<Node | undefined | null | false>): Element {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) clean[key] = value;
  return new Element(name, ns, clean).append(...children);
}

export function escapeText(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

export function escapeAttr(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
