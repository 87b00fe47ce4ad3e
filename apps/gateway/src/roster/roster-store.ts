import type { RosterEntry } from './roster-entry';

/** Roster and subscription state per account (RFC 6121), keyed by bare JIDs. */
export interface RosterStore {
  entries(owner: string): Promise<RosterEntry[]>;
  entry(owner: string, contact: string): Promise<RosterEntry | null>;
  put(owner: string, entry: RosterEntry): Promise<void>;
  remove(owner: string, contact: string): Promise<void>;
  /** Forgets an account: its own entries and every entry about it. */
  removeAccount(jid: string): Promise<void>;
}

export class InMemoryRosterStore implements RosterStore {
  private readonly rosters = new Map<string, Map<string, RosterEntry>>();

  async entries(owner: string): Promise<RosterEntry[]> {
    return [...(this.rosters.get(owner)?.values() ?? [])].map(copy);
  }

  async entry(owner: string, contact: string): Promise<RosterEntry | null> {
    const entry = this.rosters.get(owner)?.get(contact);
    return entry ? copy(entry) : null;
  }

  async put(owner: string, entry: RosterEntry): Promise<void> {
    let roster = this.rosters.get(owner);
    if (!roster) this.rosters.set(owner, (roster = new Map()));
    roster.set(entry.contact, copy(entry));
  }

  async remove(owner: string, contact: string): Promise<void> {
    this.rosters.get(owner)?.delete(contact);
  }

  async removeAccount(jid: string): Promise<void> {
    this.rosters.delete(jid);
    for (const roster of this.rosters.values()) roster.delete(jid);
  }
}

function copy(entry: RosterEntry): RosterEntry {
  return { ...entry, groups: [...entry.groups] };
}
