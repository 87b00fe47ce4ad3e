import { z } from 'zod';
import { defineEvent } from '../registry';
import { topics } from '../topics';
import { bareJid, fullJid } from './fields';

/** Fields every session event carries: whose session, which resource, on which gateway. */
const session = {
  user: bareJid,
  /** Set once a resource is bound; a stream that never binds has none. */
  fullJid: fullJid.optional(),
  sessionId: z.string().min(1),
  gateway: z.string().min(1),
};

export const SessionOpened = defineEvent('SessionOpened', 1, topics.sessions,
  z.object({ ...session, transport: z.enum(['tcp', 'tls', 'websocket']) }));
export const SessionBound = defineEvent('SessionBound', 1, topics.sessions, z.object({ ...session, fullJid }));
/** XEP-0198: the stream broke and the session waits for resumption; the user is not reachable live. */
export const SessionHibernated = defineEvent('SessionHibernated', 1, topics.sessions,
  z.object({ ...session, fullJid, resumableForSeconds: z.number().int().nonnegative() }));
export const SessionResumed = defineEvent('SessionResumed', 1, topics.sessions, z.object({ ...session, fullJid }));
export const SessionClosed = defineEvent('SessionClosed', 1, topics.sessions,
  z.object({ ...session, reason: z.enum(['client-closed', 'replaced', 'timeout', 'resumption-expired', 'error', 'shutdown', 'kicked']) }));
