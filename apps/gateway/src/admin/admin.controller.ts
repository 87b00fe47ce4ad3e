import { Body, Controller, Delete, HttpCode, HttpException, Inject, Param, Post, Put, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AccountCommandRejected, type AccountProblem } from '../accounts/account.service';
import { issueDevelopmentToken } from '../auth/token-verifier';
import { GATEWAY_RUNTIME, type GatewayRuntime } from '../gateway-runtime';
import { AdminTokenGuard } from './admin-token.guard';

const password = z.string().min(6, 'at least 6 characters').max(1024);
const createUser = z.object({ jid: z.string().min(3), password });
const setPassword = z.object({ password });
const issueToken = z.object({ jid: z.string().min(3), ttlSeconds: z.number().int().min(1).max(30 * 86_400).default(3600) });

const STATUS: Record<AccountProblem, number> = { 'invalid-jid': 400, 'unknown-domain': 400, exists: 409, 'not-found': 404 };

/** HTTP problem details (RFC 9457) for the admin API. */
function problem(status: number, title: string, detail: string): HttpException {
  return new HttpException({ type: 'about:blank', title, status, detail }, status);
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw problem(400, 'Invalid request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

async function run<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof AccountCommandRejected) throw problem(STATUS[error.problem], error.problem, error.message);
    throw error;
  }
}

/** The operators' API (used by `hearthctl`): accounts and development tokens. */
@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  @Post('users')
  async createUser(@Body() body: unknown): Promise<{ jid: string }> {
    const { jid, password: secret } = parse(createUser, body);
    return run(async () => ({ jid: (await this.runtime.core.accounts.create(jid, secret)).toString() }));
  }

  @Put('users/:jid/password')
  @HttpCode(204)
  async setPassword(@Param('jid') jid: string, @Body() body: unknown): Promise<void> {
    const { password: secret } = parse(setPassword, body);
    await run(() => this.runtime.core.accounts.setPassword(jid, secret));
  }

  @Delete('users/:jid')
  @HttpCode(204)
  async deleteUser(@Param('jid') jid: string): Promise<void> {
    await run(() => this.runtime.core.accounts.delete(jid));
  }

  /** A development JWT signed with HEARTH_JWT_SECRET, as a product backend would issue it. */
  @Post('tokens')
  async issueToken(@Body() body: unknown): Promise<{ token: string; expiresAt: string }> {
    const { jid, ttlSeconds } = parse(issueToken, body);
    const { config } = this.runtime;
    if (!config.HEARTH_JWT_SECRET) throw problem(409, 'No signing secret', 'HEARTH_JWT_SECRET is not configured');
    const account = run(async () => this.runtime.core.accounts.accountJid(jid));
    const token = await issueDevelopmentToken(config.HEARTH_JWT_SECRET, (await account).toString(), ttlSeconds, config.HEARTH_JWT_ISSUER, config.HEARTH_JWT_AUDIENCE);
    return { token, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() };
  }
}
