/**
 * Whether an error is worth retrying (the database or broker is briefly unavailable, a
 * serialization conflict) as opposed to a problem with the event itself or a bug, which
 * retrying cannot fix and which goes to the dead-letter topic instead.
 */
export function isTransient(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: unknown; kind?: unknown; retriable?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (e.retriable === true) return true;
    if (typeof e.code === 'string') {
      if (TRANSIENT_NODE_CODES.has(e.code) || TRANSIENT_PRISMA_CODES.has(e.code)) return true;
      if (/^(08|53|57P|40001|40P01)/.test(e.code)) return true; // SQLSTATE classes: connection, resources, shutdown, conflicts
    }
    if (typeof e.kind === 'string' && TRANSIENT_ADAPTER_KINDS.has(e.kind)) return true;
    current = e.cause ?? e.meta?.driverAdapterError;
  }
  return false;
}

const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
// P1001 can't reach, P1002 timeout, P1017 connection closed, P2024 pool timeout, P2028 transaction API, P2034 write conflict
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024', 'P2028', 'P2034']);
const TRANSIENT_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'SocketTimeout', 'ConnectionClosed', 'TransactionWriteConflict', 'TooManyConnections']);
