import { z } from 'zod';
import { defineEvent } from '../registry';
import { topics } from '../topics';
import { bareJid, timestamp } from './fields';

/** XEP-0313 §6 archiving preferences. */
export const ArchivePreferencesChanged = defineEvent('ArchivePreferencesChanged', 1, topics.archive, z.object({
  user: bareJid,
  default: z.enum(['always', 'never', 'roster']),
  always: z.array(bareJid).max(1000),
  never: z.array(bareJid).max(1000),
}));

/** Messages accepted before `before` are removed from every archive (the retention period). */
export const ArchiveRetentionApplied = defineEvent('ArchiveRetentionApplied', 1, topics.archive, z.object({
  before: timestamp,
}));
