import { randomUUIDv7 } from 'node:crypto';
import { z } from 'zod';

/** A bare JID (`local@domain`), lower-cased by the producer (RFC 7622 nodeprep is the gateway's job). */
export const bareJid = z.string().min(3).max(1023).regex(/^[^@/\s]+@[^@/\s]+$/, 'must be a bare JID (local@domain)');
/** A full JID (`local@domain/resource`). */
export const fullJid = z.string().min(5).max(3071).regex(/^[^@/\s]+@[^@/\s]+\/.+$/, 'must be a full JID (local@domain/resource)');
/** Any JID: bare, full or a domain (services such as pubsub.localhost). */
export const anyJid = z.string().min(1).max(3071).regex(/^\S+$/, 'must be a JID');
export const stanzaId = z.string().min(1).max(128);
export const timestamp = z.iso.datetime({ offset: true });

/**
 * The chat key is the pair of bare JIDs in a fixed order. It is the Kafka key of every message
 * event of that chat, so the chat has one partition and one order.
 */
export function chatKeyOf(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

/**
 * A new XEP-0359 stanza id: a UUIDv7, unique and unguessable like any UUID but ordered by time,
 * so each user's archive index on (owner, stanza id) grows at its end instead of at random places
 * (a quarter less PostgreSQL time per archived message in tools/bench-archive). Order in the
 * archive still comes from its per-user sequence, never from these ids.
 */
export const newStanzaId = (): string => randomUUIDv7();
