/**
 * Topic names. One topic per bounded context that produces events; the record key (the
 * envelope's `key`) keeps each aggregate in one partition, in order.
 */
export const topics = {
  /** key: account bare JID */
  accounts: 'hearth.accounts',
  /** key: bare JID of the session's user */
  sessions: 'hearth.sessions',
  /** key: chat key (the two bare JIDs, sorted) — one chat, one partition, one order */
  messages: 'hearth.messages',
  /** key: user bare JID */
  archive: 'hearth.archive',
  /** key: user bare JID */
  readState: 'hearth.read-state',
  /** key: pubsub node */
  pubsub: 'hearth.pubsub',
  /** key: user bare JID */
  push: 'hearth.push',
  /** events a consumer could not process, with the reason; key: original topic/partition/offset */
  deadLetter: 'hearth.dead-letter',
} as const;

export type Topic = (typeof topics)[keyof typeof topics];
