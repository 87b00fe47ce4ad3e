import { Injectable } from '@nestjs/common';
import { ArchivePreferencesChanged, createEvent, topics } from '@hearth/contracts';
import { ArchiveDatabase } from './archive-database';
import { ArchiveLog } from './archive-log';
import { ArchiveProjection } from './archive.projection';
import { ArchiveError } from './domain/archive-error';
import type { ArchiveMode } from './domain/archiving-policy';
import { authorizeOwner } from './domain/query-filter';

export interface PreferencesView { default: ArchiveMode; always: string[]; never: string[] }

const MODES: readonly ArchiveMode[] = ['always', 'never', 'roster'];
/** XEP-0313 §6: with no preferences set, the server default applies. */
const SERVER_DEFAULT: PreferencesView = { default: 'always', always: [], never: [] };

/** XEP-0313 §6 archiving preferences: changed through ArchivePreferencesChanged, read from the projection. */
@Injectable()
export class ArchivePreferencesService {
  constructor(private readonly database: ArchiveDatabase, private readonly log: ArchiveLog, private readonly projection: ArchiveProjection) {}

  /** The preferences in force, including a change made just before (read after the log, see ArchiveProjection.caughtUpFor). */
  async get(requester: string, owner: string): Promise<PreferencesView> {
    authorizeOwner(requester, owner);
    await this.projection.caughtUpFor(owner, [topics.archive]);
    const rows = await this.database.sql.$queryRawUnsafe<{ mode: ArchiveMode; always: string[]; never: string[] }[]>(
      'SELECT mode, always, never FROM archive_preferences WHERE owner = $1 ORDER BY effective_at DESC, event_id DESC LIMIT 1', owner,
    );
    return rows[0] ? { default: rows[0].mode, always: rows[0].always, never: rows[0].never } : SERVER_DEFAULT;
  }

  /** Appends the change and answers from the event (the projection applies it when consumed). */
  async set(requester: string, owner: string, prefs: PreferencesView): Promise<PreferencesView> {
    authorizeOwner(requester, owner);
    if (!MODES.includes(prefs.default)) throw new ArchiveError('bad-request', `default must be one of ${MODES.join(', ')}`);
    const normalise = (jids: string[]) => [...new Set(jids.map((j) => j.toLowerCase()))];
    const payload = { user: owner, default: prefs.default, always: normalise(prefs.always), never: normalise(prefs.never) };
    let event;
    try {
      event = createEvent(ArchivePreferencesChanged, payload, { key: owner, producer: 'archive' });
    } catch (error) {
      throw new ArchiveError('bad-request', (error as Error).message);
    }
    await this.log.publish(event);
    return { default: payload.default, always: payload.always, never: payload.never };
  }
}
