import { ArchiveError } from './archive-error';

/** What the archive accepts as a query, after the edge (gRPC or HTTP) has mapped its fields. */
export interface ArchiveQueryInput {
  requester: string;
  owner: string;
  with?: string;
  start?: string;
  end?: string;
  beforeId?: string;
  afterId?: string;
  ids?: readonly string[];
  conversationId?: string;
}

/** A validated XEP-0313 §4.1 filter. */
export interface ArchiveFilter {
  owner: string;
  withBare?: string;
  /** Set when `with` is a full JID: only messages exchanged with that resource. */
  withFull?: string;
  start?: Date;
  end?: Date;
  beforeId?: string;
  afterId?: string;
  ids?: readonly string[];
  conversationId?: string;
}

const BARE_JID = /^[^@/\s]+@[^@/\s]+$/;
const FULL_JID = /^([^@/\s]+@[^@/\s]+)\/.+$/;
/** Most ids one `ids` field may list (HEARTH_ARCHIVE_MAX_PAGE also caps what a page returns). */
export const MAX_IDS_PER_QUERY = 1_000;

/** Only the owner reads an archive (XEP-0313 §4: a user queries their own archive). */
export function authorizeOwner(requester: string, owner: string): void {
  if (!BARE_JID.test(owner)) throw new ArchiveError('bad-request', `archive owner ${JSON.stringify(owner)} is not a bare JID`);
  if (requester !== owner) throw new ArchiveError('forbidden', `${requester} may not read the archive of ${owner}`);
}

export function parseFilter(input: ArchiveQueryInput): ArchiveFilter {
  authorizeOwner(input.requester, input.owner);
  const filter: ArchiveFilter = { owner: input.owner };
  if (input.with) {
    const full = FULL_JID.exec(input.with);
    if (full) Object.assign(filter, { withBare: full[1]!.toLowerCase(), withFull: input.with });
    else if (BARE_JID.test(input.with)) filter.withBare = input.with.toLowerCase();
    else throw new ArchiveError('bad-request', `with ${JSON.stringify(input.with)} is not a JID`);
  }
  if (input.start) filter.start = parseTime('start', input.start);
  if (input.end) filter.end = parseTime('end', input.end);
  if (input.beforeId) filter.beforeId = input.beforeId;
  if (input.afterId) filter.afterId = input.afterId;
  if (input.ids && input.ids.length > 0) {
    if (input.ids.length > MAX_IDS_PER_QUERY) throw new ArchiveError('bad-request', `at most ${MAX_IDS_PER_QUERY} ids per query`);
    filter.ids = input.ids;
  }
  if (input.conversationId) filter.conversationId = input.conversationId;
  return filter;
}

/** XEP-0082 date-time. */
export function parseTime(field: string, value: string): Date {
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) throw new ArchiveError('bad-request', `${field} ${JSON.stringify(value)} is not an XEP-0082 date-time`);
  return time;
}
