/**
 * JIDs (RFC 7622). Normalisation approximates the PRECIS profiles: localpart and domain are
 * case-folded and NFKC-normalised (UsernameCaseMapped, IDNA-lowercase), the resourcepart is NFC
 * (OpaqueString). Characters RFC 7622 §3.3.1 forbids in a localpart are refused.
 */
export class Jid {
  private constructor(
    readonly local: string,
    readonly domain: string,
    readonly resource: string,
  ) {}

  static parse(value: string): Jid | null {
    const slash = value.indexOf('/');
    const bare = slash === -1 ? value : value.slice(0, slash);
    const resource = slash === -1 ? '' : value.slice(slash + 1);
    const at = bare.indexOf('@');
    const local = at === -1 ? '' : bare.slice(0, at);
    const domain = at === -1 ? bare : bare.slice(at + 1);
    return Jid.of(local, domain, resource);
  }

  static of(local: string, domain: string, resource = ''): Jid | null {
    const l = normaliseLocal(local);
    const d = domain.normalize('NFKC').toLowerCase().replace(/\.$/, '');
    const r = resource.normalize('NFC');
    if (l === null || !validPart(d) || /[\s@/]/.test(d) || byteLength(r) > 1023) return null;
    if (/[\u0000-\u001f\u007f]/.test(r)) return null;
    return new Jid(l, d, r);
  }

  get bare(): Jid {
    return this.resource === '' ? this : new Jid(this.local, this.domain, '');
  }

  get isBare(): boolean {
    return this.resource === '';
  }

  withResource(resource: string): Jid | null {
    return Jid.of(this.local, this.domain, resource);
  }

  equals(other: Jid | null | undefined): boolean {
    return !!other && other.toString() === this.toString();
  }

  toString(): string {
    const bare = this.local ? `${this.local}@${this.domain}` : this.domain;
    return this.resource ? `${bare}/${this.resource}` : bare;
  }
}

const FORBIDDEN_IN_LOCAL = /["&'/:<>@\s\u0000-\u001f\u007f]/;

function normaliseLocal(local: string): string | null {
  if (local === '') return '';
  const l = local.normalize('NFKC').toLowerCase();
  return validPart(l) && !FORBIDDEN_IN_LOCAL.test(l) ? l : null;
}

function validPart(part: string): boolean {
  return part.length > 0 && byteLength(part) <= 1023;
}

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}
