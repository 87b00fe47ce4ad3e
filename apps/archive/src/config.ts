import { z } from 'zod';
import { env, loadConfigOrExit } from '@hearth/runtime';
import { topics } from '@hearth/contracts';
import { DEFAULT_MAX_PAGE } from './domain/rsm';

/** What the archive projection consumes. */
export const ARCHIVE_TOPICS: readonly string[] = [topics.messages, topics.accounts, topics.archive];

export const archiveConfigSchema = z.object({
  DATABASE_URL: env.url(),
  HEARTH_KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  HEARTH_HTTP_PORT: env.port(8081),
  HEARTH_GRPC_PORT: env.port(50051),
  /** HS256 secret of the product backend's JWTs (`sub` = the user's bare JID); unset = JWTs refused. */
  HEARTH_JWT_SECRET: z.string().min(16).optional(),
  /** Bearer token that may read any user's archive over HTTP (operators, the product backend); unset = none. */
  HEARTH_ADMIN_TOKEN: z.string().min(16).optional(),
  HEARTH_MODE: z.enum(['development', 'production']).default('development'),
  /**
   * Topics the projection consumes. `hearth-replay` first replays hearth.accounts and
   * hearth.archive alone, then everything, so a rebuild knows every preference and deletion
   * before it archives the messages they apply to.
   */
  HEARTH_ARCHIVE_TOPICS: env.list(ARCHIVE_TOPICS.join(',')).refine((list) => list.every((t) => ARCHIVE_TOPICS.includes(t)), {
    message: `must be a comma list of ${ARCHIVE_TOPICS.join(', ')}`,
  }),
  /** Consumer group and checkpoint name; `hearth-replay` gives a rebuild its own. */
  HEARTH_ARCHIVE_CONSUMER_GROUP: env.string('archive'),
  /**
   * Shards of the projection: consumers of the whole log, each writing the archives of its share
   * of the users in its own transactions, in parallel. A new count takes over where the old
   * shards all stopped; where they stopped at different positions it needs a rebuild.
   */
  HEARTH_ARCHIVE_SHARDS: z.coerce.number().int().min(1).max(16).default(2),
  /**
   * Most bytes of events applied in one projection transaction (gathered from fetches of at most
   * 1 MiB per partition). It bounds transactions while the archive catches up (a restart, a
   * rebuild); live traffic fills far less within the linger. 16 MiB ingested about 5% faster than
   * 8 MiB in alternating runs of tools/bench-archive (PostgreSQL spends less per message on fewer,
   * larger statements) for about 65 MB more peak memory; 32 MiB was slower (more garbage collection).
   */
  HEARTH_ARCHIVE_MAX_BATCH_BYTES: env.int(16 * 1024 * 1024, 1024),
  /**
   * Least time between two projection transactions: what arrives meanwhile is archived together.
   * A transaction costs about as much for 50 messages as for 500 (a dozen statements, most of
   * them per chat), so under steady traffic this much archive lag saves most of the archive's
   * CPU (tools/bench-messaging at 5,000 messages/s: 173 µs per message at 100 ms, 110 at 500).
   * Readers do not see the lag: a read waits for what concerns its owner, and only then makes
   * the shard's next transaction start 100 ms after its last (HEARTH_ARCHIVE_READ_WAIT_MS).
   */
  HEARTH_ARCHIVE_BATCH_LINGER_MS: env.int(500, 0),
  /**
   * How long a read (MAM query, chats, conversations, preferences) waits for the projection to
   * apply what was appended before it was asked; past that the reader gets a `wait` error
   * (resource-constraint, HTTP 503). Below the gateway's 5 s deadline for archive calls.
   */
  HEARTH_ARCHIVE_READ_WAIT_MS: env.int(3_000, 1),
  /** Connections to the archive database (node-postgres pool: projection and queries). */
  HEARTH_ARCHIVE_DATABASE_POOL_SIZE: env.int(10, 2),
  /** Server maximum RSM page size (XEP-0059 `max` above it is lowered to it). */
  HEARTH_ARCHIVE_MAX_PAGE: env.int(DEFAULT_MAX_PAGE, 1),
  /** A gap between consecutive messages of a chat at least this long starts a new conversation. */
  HEARTH_ARCHIVE_CONVERSATION_GAP_MINUTES: env.int(15, 1),
  /** Messages older than this many days are removed (ArchiveRetentionApplied); 0 = keep forever. */
  HEARTH_ARCHIVE_RETENTION_DAYS: env.int(0),
  /** How often the retention period is applied, in seconds. */
  HEARTH_ARCHIVE_RETENTION_CHECK_SECONDS: env.int(3_600, 1),
});

export type ArchiveConfig = z.infer<typeof archiveConfigSchema>;
export const ARCHIVE_CONFIG = Symbol('ARCHIVE_CONFIG');

export const loadArchiveConfig = () => loadConfigOrExit(archiveConfigSchema);
