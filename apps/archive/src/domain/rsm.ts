import { ArchiveError } from './archive-error';

/**
 * XEP-0059 Result Set Management as the archive pages: over a set ordered by archive position,
 * `after` pages forward, `before` backward (empty = the last page), `index` skips that many.
 */
export interface RsmRequest {
  max?: number;
  after?: string;
  /** '' = the last page (XEP-0059 §2.5). */
  before?: string;
  index?: number;
}

export type PageDirection = 'forward' | 'backward';

export interface PagePlan {
  /** Items per page, after the server maximum. */
  limit: number;
  direction: PageDirection;
  /** Exclusive cursor (an archive id), or undefined: from the start (forward) / from the end (backward). */
  cursor?: string;
  offset: number;
}

/** The server maximum page size (HEARTH_ARCHIVE_MAX_PAGE, default 250). */
export const DEFAULT_MAX_PAGE = 250;

export function planPage(rsm: RsmRequest | undefined, serverMax: number): PagePlan {
  const requested = rsm?.max;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 0)) {
    throw new ArchiveError('bad-request', 'RSM max must be a non-negative integer');
  }
  const limit = Math.min(requested ?? serverMax, serverMax);
  const cursors = [rsm?.after !== undefined, rsm?.before !== undefined, rsm?.index !== undefined].filter(Boolean).length;
  if (cursors > 1) throw new ArchiveError('bad-request', 'RSM after, before and index cannot be combined');
  if (rsm?.index !== undefined) {
    if (!Number.isInteger(rsm.index) || rsm.index < 0) throw new ArchiveError('bad-request', 'RSM index must be a non-negative integer');
    return { limit, direction: 'forward', offset: rsm.index };
  }
  if (rsm?.before !== undefined) {
    return { limit, direction: 'backward', offset: 0, ...(rsm.before === '' ? {} : { cursor: rsm.before }) };
  }
  if (rsm?.after !== undefined) {
    if (rsm.after === '') throw new ArchiveError('bad-request', 'RSM after must name an archive id');
    return { limit, direction: 'forward', offset: 0, cursor: rsm.after };
  }
  return { limit, direction: 'forward', offset: 0 };
}

/**
 * Turns the rows fetched for a plan (up to limit + 1, in paging direction) into the page, in
 * archive order. `complete` (XEP-0313 §4.3 `<fin complete>`) is true exactly when nothing is
 * left beyond the page in the direction of paging.
 */
export function cutPage<T>(fetched: readonly T[], plan: PagePlan): { items: T[]; complete: boolean } {
  const items = fetched.slice(0, plan.limit);
  return { items: plan.direction === 'backward' ? items.reverse() : items, complete: fetched.length <= plan.limit };
}

/**
 * RSM `<first index>` when it is known without counting what precedes the page: an index
 * request, the first page, or the last page (count - size).
 */
export function firstIndexOf(plan: PagePlan, count: number | undefined, size: number): number | undefined {
  if (plan.direction === 'forward' && plan.cursor === undefined) return plan.offset;
  if (plan.direction === 'backward' && plan.cursor === undefined && count !== undefined) return Math.max(0, count - size);
  return undefined;
}
