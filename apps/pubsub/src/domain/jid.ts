/** The bare part of a JID (RFC 7622 §3.1): `local@domain/resource` → `local@domain`. */
export function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid : jid.slice(0, slash);
}

/** Whether a string looks like a JID at all (the gateway has already applied stringprep). */
export function isJid(jid: string): boolean {
  return jid.length > 0 && jid.length <= 3071 && !/\s/.test(jid) && !jid.startsWith('/') && !jid.startsWith('@');
}

export const isBareJid = (jid: string): boolean => isJid(jid) && !jid.includes('/');
