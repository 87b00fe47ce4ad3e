import { z } from 'zod';
import { env, loadConfigOrExit } from '@hearth/runtime';

export const pushConfigSchema = z.object({
  DATABASE_URL: env.url(),
  HEARTH_KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  HEARTH_HTTP_PORT: env.port(8084),
  HEARTH_GRPC_PORT: env.port(50054),
  /** Hosted domains: only their users can register devices. */
  HEARTH_DOMAINS: env.list('localhost'),
  /** HS256 secret of the product backend's JWTs (`sub` = the user's bare JID); unset = JWTs refused. */
  HEARTH_JWT_SECRET: z.string().min(16).optional(),
  /** Bearer token that may act for any user over HTTP (operators, the product backend); unset = none. */
  HEARTH_ADMIN_TOKEN: z.string().min(16).optional(),
  HEARTH_MODE: z.enum(['development', 'production']).default('development'),

  /**
   * APNs authentication. Token (recommended): the .p8 key file with its key id and team id.
   * Certificate: HEARTH_APNS_CERT_FILE (PEM) with its private key in HEARTH_APNS_KEY_FILE.
   */
  HEARTH_APNS_KEY_FILE: z.string().min(1).optional(),
  HEARTH_APNS_KEY_ID: z.string().min(1).optional(),
  HEARTH_APNS_TEAM_ID: z.string().min(1).optional(),
  HEARTH_APNS_CERT_FILE: z.string().min(1).optional(),
  /** host:port that replaces Apple's production and sandbox endpoints (a local APNs for tests). */
  HEARTH_APNS_ENDPOINT: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port').optional(),
  /** PEM file of a CA (or the self-signed certificate) to trust for the APNs endpoint. */
  HEARTH_APNS_CA_FILE: z.string().min(1).optional(),
  /** Request timeout towards APNs; a request that times out is not resent (it may have arrived). */
  HEARTH_APNS_REQUEST_TIMEOUT_MS: env.int(5_000, 100),

  /** Message text longer than this is cut (with "…") in the notification. */
  HEARTH_PUSH_BODY_MAX_CHARS: env.int(200, 1),
  /** Show "New message" instead of the text (the app can fetch it by the stanza id in the payload). */
  HEARTH_PUSH_HIDE_BODY: env.flag(false),
  /** How long a message's push waits for read-state's UnreadChanged, for an exact badge. */
  HEARTH_PUSH_BADGE_WAIT_MS: env.int(1_500, 0),
  HEARTH_PUSH_RETRY_MAX_ATTEMPTS: env.int(5, 1),
  HEARTH_PUSH_RETRY_BASE_MS: env.int(500, 1),
  HEARTH_PUSH_RETRY_MAX_DELAY_MS: env.int(30_000, 1),
  /** Notifications in flight towards APNs at once. */
  HEARTH_PUSH_CONCURRENCY: env.int(64, 1),
  /** apns-expiration: Apple stores an undeliverable notification this long. */
  HEARTH_PUSH_EXPIRATION_SECONDS: env.int(86_400, 0),
  /** How long an HTTP or gRPC command waits for the projection to apply its event (read-your-write). */
  HEARTH_PUSH_CATCH_UP_TIMEOUT_MS: env.int(3_000, 1),
  /** Kafka consumer session timeout: how long a crashed instance holds its partitions. */
  HEARTH_PUSH_CONSUMER_SESSION_TIMEOUT_MS: env.int(30_000, 6_000),
}).superRefine((config, ctx) => {
  const token = config.HEARTH_APNS_KEY_ID !== undefined || config.HEARTH_APNS_TEAM_ID !== undefined;
  if (config.HEARTH_APNS_CERT_FILE !== undefined && token) {
    ctx.addIssue({ code: 'custom', path: ['HEARTH_APNS_CERT_FILE'], message: 'choose token (KEY_ID, TEAM_ID) or certificate authentication, not both' });
  }
  if (token) {
    for (const name of ['HEARTH_APNS_KEY_FILE', 'HEARTH_APNS_KEY_ID', 'HEARTH_APNS_TEAM_ID'] as const) {
      if (config[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'token authentication needs the .p8 key file, key id and team id' });
    }
  }
  if (config.HEARTH_APNS_CERT_FILE !== undefined && config.HEARTH_APNS_KEY_FILE === undefined) {
    ctx.addIssue({ code: 'custom', path: ['HEARTH_APNS_KEY_FILE'], message: 'certificate authentication needs the certificate\'s private key file' });
  }
  if (config.HEARTH_MODE === 'production' && config.HEARTH_APNS_KEY_FILE === undefined) {
    ctx.addIssue({ code: 'custom', path: ['HEARTH_APNS_KEY_FILE'], message: 'production needs APNs credentials (token or certificate)' });
  }
});

export type PushConfig = z.infer<typeof pushConfigSchema>;
export const PUSH_CONFIG = Symbol('PUSH_CONFIG');

export const loadPushConfig = () => loadConfigOrExit(pushConfigSchema);
