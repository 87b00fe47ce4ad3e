import type { Jid } from '../xml/jid';
import type { Session } from './session';

/**
 * The local session registry: full JID → session, and per account its resources. Later, cross-
 * gateway delivery consults it for the sessions this process holds.
 */
export class SessionRegistry {
  private readonly byFullJid = new Map<string, Session>();
  private readonly byAccount = new Map<string, Map<string, Session>>();

  get size(): number {
    return this.byFullJid.size;
  }

  get(fullJid: Jid | string): Session | undefined {
    return this.byFullJid.get(fullJid.toString());
  }

  /** Adds a session; returns the one it replaces when the same full JID was bound before. */
  add(session: Session): Session | undefined {
    const key = session.jid.toString();
    const previous = this.byFullJid.get(key);
    this.byFullJid.set(key, session);
    const account = session.jid.bare.toString();
    let resources = this.byAccount.get(account);
    if (!resources) this.byAccount.set(account, (resources = new Map()));
    resources.set(session.jid.resource, session);
    return previous;
  }

  /** Removes the session if it is still the one registered under its JID. */
  remove(session: Session): boolean {
    const key = session.jid.toString();
    if (this.byFullJid.get(key) !== session) return false;
    this.byFullJid.delete(key);
    const account = session.jid.bare.toString();
    const resources = this.byAccount.get(account);
    resources?.delete(session.jid.resource);
    if (resources?.size === 0) this.byAccount.delete(account);
    return true;
  }

  /** Every bound resource of an account. */
  resources(account: Jid | string): Session[] {
    return [...(this.byAccount.get(account.toString())?.values() ?? [])];
  }

  /** Resources that sent available presence (RFC 6121 §4.1 "available resource"). */
  available(account: Jid | string): Session[] {
    return this.resources(account).filter((s) => s.available);
  }

  all(): IterableIterator<Session> {
    return this.byFullJid.values();
  }
}
