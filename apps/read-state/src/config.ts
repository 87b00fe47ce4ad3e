import { z } from 'zod';
import { env, loadConfigOrExit } from '@hearth/runtime';

export const readStateConfigSchema = z.object({
  DATABASE_URL: env.url(),
  HEARTH_KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  HEARTH_HTTP_PORT: env.port(8082),
  HEARTH_GRPC_PORT: env.port(50052),
  /** HS256 secret of the product backend's JWTs (`sub` = the user's bare JID); unset = JWTs refused. */
  HEARTH_JWT_SECRET: z.string().min(16).optional(),
  /** Bearer token that may act for any user over HTTP (operators); unset = none. */
  HEARTH_ADMIN_TOKEN: z.string().min(16).optional(),
  HEARTH_MODE: z.enum(['development', 'production']).default('development'),
  /**
   * How long a marker for a message read-state has not consumed yet waits for the projection to
   * catch up with hearth.messages, and how long a command waits to read its own write.
   */
  HEARTH_READ_STATE_CATCH_UP_TIMEOUT_MS: env.int(3_000, 1),
  /** Most chats one unread query returns (the most unread first); the total always counts all. */
  HEARTH_READ_STATE_MAX_CHATS_PER_QUERY: env.int(1_000, 1),
});

export type ReadStateConfig = z.infer<typeof readStateConfigSchema>;
export const READ_STATE_CONFIG = Symbol('READ_STATE_CONFIG');

export const loadReadStateConfig = () => loadConfigOrExit(readStateConfigSchema);
