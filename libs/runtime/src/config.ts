import { z } from 'zod';

/** A configuration value that is missing or malformed; its message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses configuration once, at start-up, from environment variables against a zod object
 * schema whose keys are the variable names. The first problem stops the start with one line
 * naming the variable and what is wrong with it.
 */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = issue.path.join('.') || '(environment)';
  const value = env[variable];
  const shown = value === undefined ? 'is not set' : `is invalid (${JSON.stringify(redact(variable, value))})`;
  throw new ConfigError(`${variable} ${shown}: ${issue.message}`);
}

/** Runs parseConfig, or prints its one-line error and exits non-zero. */
export function loadConfigOrExit<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|KEY|DATABASE_URL/i;
function redact(variable: string, value: string): string {
  return SECRET_NAME.test(variable) ? '***' : value;
}

/** Reusable field schemas, so every service spells ports, durations and flags the same way. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  int: (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback),
  flag: (fallback: boolean) =>
    z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1'),
  string: (fallback: string) => z.string().min(1).default(fallback),
  list: (fallback: string) =>
    z.string().default(fallback).transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  url: () => z.string().url(),
};
