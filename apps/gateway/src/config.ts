import { env, parseConfig } from '@hearth/runtime';
import { z } from 'zod';

/**
 * The gateway's configuration, parsed once at start from the environment. Every limit is a named
 * field whose key is the variable that changes it, with the default beside it.
 */
export const gatewayConfigSchema = z.object({
  HEARTH_DOMAINS: env.list('localhost'),
  HEARTH_GATEWAY_C2S_PORT: env.port(5222),
  HEARTH_GATEWAY_C2S_TLS_PORT: env.port(5223),
  HEARTH_GATEWAY_HTTP_PORT: env.port(5280),
  /** HTTPS + wss (RFC 7395 over TLS) with the gateway certificate; Prosody's 5281. */
  HEARTH_GATEWAY_HTTPS_PORT: env.port(5281),
  HEARTH_GATEWAY_BIND_HOST: env.string('::'),
  /** Treat plain ws as secure because a TLS-terminating proxy sits in front (Prosody's consider_websocket_secure). */
  HEARTH_GATEWAY_WS_SECURE: env.flag(false),
  HEARTH_TLS_CERT_FILE: z.string().min(1).optional(),
  HEARTH_TLS_KEY_FILE: z.string().min(1).optional(),
  HEARTH_DATA_DIR: env.string('./.hearth'),
  HEARTH_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  HEARTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256 key)').optional(),
  HEARTH_JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  HEARTH_JWT_JWKS_FILE: z.string().min(1).optional(),
  HEARTH_JWT_ISSUER: z.string().min(1).optional(),
  HEARTH_JWT_AUDIENCE: z.string().min(1).optional(),
  /** Create the account on the first valid token for an unknown `sub` (products with social sign-in). */
  HEARTH_JWT_AUTO_CREATE_ACCOUNTS: env.flag(false),
  DATABASE_URL: z.string().min(1).optional(),
  HEARTH_KAFKA_BROKERS: z.string().optional().transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [])),
  /**
   * How often the outbox relay looks for account events nobody published. A command's own gateway
   * publishes its event at once; this finds what a gateway that crashed in between left behind.
   */
  HEARTH_GATEWAY_OUTBOX_POLL_MS: env.int(2_000, 10),
  /** This process in session events and its consumer group; unique per process by default. */
  HEARTH_GATEWAY_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)').optional(),
  /** Appends arriving within this window go to the broker in one batch; each is still acknowledged on its own. */
  HEARTH_GATEWAY_APPEND_LINGER_MS: env.int(2, 0),
  HEARTH_GATEWAY_APPEND_MAX_BATCH: env.int(500, 1),
  /** Producers appending in parallel (each keeps its chats' order); more lanes, less queueing behind one batch. */
  HEARTH_GATEWAY_APPEND_LANES: env.int(4, 1),
  /** An append not acknowledged by then is answered with a `wait` error (resource-constraint). */
  HEARTH_GATEWAY_APPEND_TIMEOUT_MS: env.int(5_000, 100),
  /** Messages one session may send per second, sustained, and in a burst; beyond that: policy-violation. */
  HEARTH_GATEWAY_MESSAGE_RATE_PER_SEC: env.int(50, 1),
  HEARTH_GATEWAY_MESSAGE_BURST: env.int(200, 1),
  /**
   * How long a sender's message id keeps a resend from becoming a second message. Clients resend
   * within minutes (reconnect, XEP-0198 resumption); older keys are deleted.
   */
  HEARTH_GATEWAY_DEDUPE_RETENTION_HOURS: env.int(7 * 24, 1),
  /** XEP-0198 §5: how long a broken stream's session waits for resumption (0: no resumption). */
  HEARTH_GATEWAY_SM_RESUME_SECONDS: env.int(300, 0),
  /** XEP-0198 §4: stanzas sent and not yet acknowledged per session; beyond that the session is closed. */
  HEARTH_GATEWAY_SM_MAX_UNACKED: env.int(5_000, 1),
  /** The server asks for an acknowledgement (`<r/>`) after this many unacknowledged stanzas … */
  HEARTH_GATEWAY_SM_REQUEST_EVERY: env.int(10, 1),
  /** … or when a stanza has waited this long unacknowledged. */
  HEARTH_GATEWAY_SM_REQUEST_AFTER_MS: env.int(5_000, 50),
  /** Backing services' gRPC addresses (host:port); a module whose service is not configured is off. */
  HEARTH_ARCHIVE_GRPC_URL: z.string().min(1).optional(),
  HEARTH_READ_STATE_GRPC_URL: z.string().min(1).optional(),
  HEARTH_PUBSUB_GRPC_URL: z.string().min(1).optional(),
  HEARTH_PUSH_GRPC_URL: z.string().min(1).optional(),

  // Limits (RFC 6120 §13.12 asks servers to bound resources per connection).
  HEARTH_GATEWAY_MAX_STANZA_BYTES: env.int(256 * 1024, 1024),
  HEARTH_GATEWAY_MAX_DEPTH: env.int(32, 4),
  /** Sustained read rate per connection; the socket is paused, not dropped, when it is exceeded. */
  HEARTH_GATEWAY_READ_RATE_BYTES_PER_SEC: env.int(64 * 1024, 1024),
  HEARTH_GATEWAY_READ_BURST_BYTES: env.int(512 * 1024, 1024),
  /** Outbound bytes queued for one client before it is cut off as not reading. */
  HEARTH_GATEWAY_MAX_OUTBOUND_BYTES: env.int(2 * 1024 * 1024, 64 * 1024),
  HEARTH_GATEWAY_AUTH_TIMEOUT_MS: env.int(30_000, 100),
  /** Silence after which the server pings the client (XEP-0199 §4.2) … */
  HEARTH_GATEWAY_PING_AFTER_MS: env.int(240_000, 100),
  /** … and how long it waits for any traffic before closing with connection-timeout. */
  HEARTH_GATEWAY_PING_TIMEOUT_MS: env.int(60_000, 100),
  HEARTH_GATEWAY_MAX_RESOURCES_PER_ACCOUNT: env.int(20, 1),
  /** RFC 6120 §6.4.5: failed SASL attempts allowed on one stream before it is closed. */
  HEARTH_GATEWAY_AUTH_ATTEMPTS_PER_STREAM: env.int(3, 1),
  HEARTH_GATEWAY_AUTH_FAILURES_PER_IP: env.int(30, 1),
  HEARTH_GATEWAY_AUTH_FAILURES_PER_ACCOUNT: env.int(10, 1),
  HEARTH_GATEWAY_AUTH_FAILURE_WINDOW_MS: env.int(5 * 60_000, 1000),
  HEARTH_SCRAM_ITERATIONS: env.int(4096, 4096), // RFC 7677 §4: at least 4096
  HEARTH_GATEWAY_SHUTDOWN_GRACE_MS: env.int(5_000, 0),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function parseGatewayConfig(source: NodeJS.ProcessEnv): GatewayConfig {
  return parseConfig(gatewayConfigSchema, source);
}
