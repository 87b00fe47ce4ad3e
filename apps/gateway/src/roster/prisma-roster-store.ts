import type { GatewayDatabase } from '../database/gateway-database';
import type { RosterEntry as RosterRow } from '../generated/prisma/client';
import type { RosterEntry, Subscription } from './roster-entry';
import type { RosterStore } from './roster-store';

function entry(row: RosterRow): RosterEntry {
  return {
    contact: row.contact,
    name: row.name ?? undefined,
    groups: row.groups,
    subscription: row.subscription as Subscription,
    askOut: row.askOut,
    pendingIn: row.pendingIn,
    listed: row.listed,
  };
}

/** Rosters and subscription states in PostgreSQL, one row per (owner, contact). */
export class PrismaRosterStore implements RosterStore {
  constructor(private readonly db: GatewayDatabase) {}

  async entries(owner: string): Promise<RosterEntry[]> {
    return (await this.db.rosterEntry.findMany({ where: { owner }, orderBy: { contact: 'asc' } })).map(entry);
  }

  async entry(owner: string, contact: string): Promise<RosterEntry | null> {
    const row = await this.db.rosterEntry.findUnique({ where: { owner_contact: { owner, contact } } });
    return row ? entry(row) : null;
  }

  async put(owner: string, value: RosterEntry): Promise<void> {
    const data = { name: value.name ?? null, groups: value.groups, subscription: value.subscription, askOut: value.askOut, pendingIn: value.pendingIn, listed: value.listed };
    await this.db.rosterEntry.upsert({ where: { owner_contact: { owner, contact: value.contact } }, create: { owner, contact: value.contact, ...data }, update: data });
  }

  async remove(owner: string, contact: string): Promise<void> {
    await this.db.rosterEntry.deleteMany({ where: { owner, contact } });
  }

  async removeAccount(jid: string): Promise<void> {
    await this.db.rosterEntry.deleteMany({ where: { OR: [{ owner: jid }, { contact: jid }] } });
  }
}
