/**
 * XEP-0313 §6 archiving preferences. Preferences are kept as a history and a message is judged
 * by the preferences in force at its acceptedAt, so the outcome depends on event data only and a
 * rebuild decides exactly as the live projection did.
 *
 * `roster` ("archive only messages with contacts in my roster") is treated as `always`: the
 * roster lives in the gateway and MessageAccepted does not say whether the peer is a contact.
 */
export type ArchiveMode = 'always' | 'never' | 'roster';

export interface ArchivePreferences {
  mode: ArchiveMode;
  always: readonly string[];
  never: readonly string[];
  /** When they took effect (the event's occurredAt), ms since the epoch. */
  effectiveAt: number;
}

/** The preferences in force at `at` from a history sorted by effectiveAt; undefined = server default. */
export function preferencesAt(history: readonly ArchivePreferences[], at: number): ArchivePreferences | undefined {
  let current: ArchivePreferences | undefined;
  for (const prefs of history) {
    if (prefs.effectiveAt > at) break;
    current = prefs;
  }
  return current;
}

/** Whether a message with `peer` (bare JID) goes into the archive. The `never` list wins over `always`. */
export function shouldArchive(prefs: ArchivePreferences | undefined, peer: string): boolean {
  if (!prefs) return true; // server default: always (XEP-0313 §6 leaves the default to the server)
  if (prefs.never.includes(peer)) return false;
  if (prefs.always.includes(peer)) return true;
  return prefs.mode !== 'never';
}
