/**
 * Broker configuration: environment variables, overridden by command-line flags
 * (`--data-dir /x` sets HEARTH_BROKER_DATA_DIR, `--max-request-bytes 1000` sets
 * HEARTH_BROKER_MAX_REQUEST_BYTES, and so on for every variable below).
 */
import { z } from 'zod';
import { ConfigError, env, parseConfig } from '@hearth/runtime';

const PREFIX = 'HEARTH_BROKER_';
/** -1 means "unlimited", as in Kafka's retention settings. */
const limitOrUnlimited = (fallback: number) => z.coerce.number().int().min(-1).default(fallback);

export const brokerConfigSchema = z.object({
  HEARTH_BROKER_HOST: env.string('127.0.0.1'),
  HEARTH_BROKER_PORT: env.port(9092),
  /** Host put in Metadata answers; defaults to the listening host, or 127.0.0.1 for 0.0.0.0/localhost. */
  HEARTH_BROKER_ADVERTISED_HOST: z.string().min(1).optional(),
  /** Port put in Metadata answers when clients reach the broker through a proxy; defaults to the listening port. */
  HEARTH_BROKER_ADVERTISED_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  HEARTH_BROKER_NODE_ID: env.int(1),
  HEARTH_BROKER_DATA_DIR: env.string('./.hearth/broker'),
  /** always: fdatasync before acknowledging a produce (group commit); never: leave it to the OS. */
  HEARTH_BROKER_FSYNC: z.enum(['always', 'never']).default('always'),
  HEARTH_BROKER_AUTO_CREATE_TOPICS: env.flag(true),
  HEARTH_BROKER_DEFAULT_PARTITIONS: env.int(1, 1),
  /** Largest request frame accepted (Kafka: socket.request.max.bytes). */
  HEARTH_BROKER_MAX_REQUEST_BYTES: env.int(100 * 1024 * 1024, 64),
  /** Largest record batch accepted (Kafka: message.max.bytes). */
  HEARTH_BROKER_MAX_MESSAGE_BYTES: env.int(1024 * 1024 + 12, 64),
  /** A connection with no traffic either way for this long is closed (Kafka: connections.max.idle.ms). */
  HEARTH_BROKER_IDLE_TIMEOUT_MS: env.int(10 * 60 * 1000, 1000),
  /** Requests read ahead on one connection before it is paused (answers stay in order). */
  HEARTH_BROKER_MAX_IN_FLIGHT_PER_CONNECTION: env.int(100, 1),
  /** Recent bytes per partition kept in memory, so live consumers are served without a disk read. */
  HEARTH_BROKER_TAIL_CACHE_BYTES: env.int(1024 * 1024),
  /** Partitions of all topics together; each keeps two files open. */
  HEARTH_BROKER_MAX_PARTITIONS: env.int(4000, 1),
  HEARTH_BROKER_SEGMENT_BYTES: env.int(1024 * 1024 * 1024, 1024),
  /** Default keeps everything: analysts replay topics from the start. */
  HEARTH_BROKER_RETENTION_MS: limitOrUnlimited(-1),
  HEARTH_BROKER_RETENTION_BYTES: limitOrUnlimited(-1),
  HEARTH_BROKER_RETENTION_CHECK_MS: env.int(5 * 60 * 1000, 10),
  /** Kafka's default is 6000; tests use short session timeouts, so allow them. */
  HEARTH_BROKER_GROUP_MIN_SESSION_TIMEOUT_MS: env.int(100, 1),
  HEARTH_BROKER_GROUP_MAX_SESSION_TIMEOUT_MS: env.int(30 * 60 * 1000, 1),
  HEARTH_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: env.int(0),
});

export type BrokerConfig = z.infer<typeof brokerConfigSchema>;

/** `--data-dir` → `HEARTH_BROKER_DATA_DIR`; unknown flags are configuration errors. */
export function flagsToEnv(argv: readonly string[]): Record<string, string> {
  const known = new Set(Object.keys(brokerConfigSchema.shape));
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!match) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} (flags look like --data-dir /path)`);
    const name = PREFIX + match[1]!.replace(/-/g, '_').toUpperCase();
    if (!known.has(name)) throw new ConfigError(`unknown flag --${match[1]} (no variable ${name})`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`flag --${match[1]} needs a value`);
    out[name] = value;
  }
  return out;
}

export function loadBrokerConfig(argv: readonly string[], environment: NodeJS.ProcessEnv): BrokerConfig {
  return parseConfig(brokerConfigSchema, { ...environment, ...flagsToEnv(argv) });
}

export function advertisedHost(config: BrokerConfig): string {
  if (config.HEARTH_BROKER_ADVERTISED_HOST) return config.HEARTH_BROKER_ADVERTISED_HOST;
  const host = config.HEARTH_BROKER_HOST;
  return host === '0.0.0.0' || host === '::' || host === 'localhost' ? '127.0.0.1' : host;
}
