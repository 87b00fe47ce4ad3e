#!/usr/bin/env node
/**
 * hearthctl: the gateway's admin API from a shell.
 *
 *   hearthctl user add alice@localhost --password secret
 *   hearthctl user passwd alice@localhost --password new-secret
 *   hearthctl user delete alice@localhost
 *   hearthctl token alice@localhost [--ttl 3600]
 *
 * HEARTH_ADMIN_URL (default http://127.0.0.1:5280) and HEARTH_ADMIN_TOKEN select the gateway.
 * The password may come from HEARTH_PASSWORD instead of the command line (shell history).
 */
const USAGE = `usage:
  hearthctl user add <jid> --password <password>
  hearthctl user passwd <jid> --password <password>
  hearthctl user delete <jid>
  hearthctl token <jid> [--ttl <seconds>]
environment: HEARTH_ADMIN_URL (default http://127.0.0.1:5280), HEARTH_ADMIN_TOKEN, HEARTH_PASSWORD`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new UsageError(`${name} needs a value`);
  return value;
}

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const base = (process.env.HEARTH_ADMIN_URL ?? 'http://127.0.0.1:5280').replace(/\/$/, '');
  const token = process.env.HEARTH_ADMIN_TOKEN;
  if (!token) throw new UsageError('HEARTH_ADMIN_TOKEN is not set');
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as { detail?: string; message?: unknown }) : undefined;
  if (!response.ok) throw new Error(`${response.status}: ${parsed?.detail ?? JSON.stringify(parsed?.message ?? parsed)}`);
  return parsed;
}

function password(args: string[]): string {
  const value = option(args, '--password') ?? process.env.HEARTH_PASSWORD;
  if (!value) throw new UsageError('--password (or HEARTH_PASSWORD) is required');
  return value;
}

async function run(args: string[]): Promise<string> {
  const [command, sub, ...rest] = args;
  if (command === 'user' && sub === 'add' && rest[0]) {
    await call('POST', '/admin/users', { jid: rest[0], password: password(rest) });
    return `created ${rest[0]}`;
  }
  if (command === 'user' && sub === 'passwd' && rest[0]) {
    await call('PUT', `/admin/users/${encodeURIComponent(rest[0])}/password`, { password: password(rest) });
    return `password changed for ${rest[0]}`;
  }
  if (command === 'user' && sub === 'delete' && rest[0]) {
    await call('DELETE', `/admin/users/${encodeURIComponent(rest[0])}`);
    return `deleted ${rest[0]}`;
  }
  if (command === 'token' && sub) {
    const ttl = option(rest, '--ttl');
    const result = (await call('POST', '/admin/tokens', { jid: sub, ttlSeconds: ttl ? Number(ttl) : undefined })) as { token: string };
    return result.token;
  }
  throw new UsageError(args.length ? `unknown command: ${args.join(' ')}` : 'no command');
}

run(process.argv.slice(2)).then(
  (output) => process.stdout.write(`${output}\n`),
  (error: unknown) => {
    process.stderr.write(`hearthctl: ${(error as Error).message}\n`);
    if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
