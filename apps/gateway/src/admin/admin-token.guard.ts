import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { GATEWAY_RUNTIME, type GatewayRuntime } from '../gateway-runtime';

/**
 * Bearer admin token (HEARTH_ADMIN_TOKEN) on every `/admin` route, compared in constant time
 * (both sides hashed first so lengths do not leak). Without a configured token the API is closed.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(GATEWAY_RUNTIME) runtime: GatewayRuntime) {
    const token = runtime.config.HEARTH_ADMIN_TOKEN;
    this.expected = token ? digest(token) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    if (!this.expected || !match || !timingSafeEqual(digest(match[1]!), this.expected)) {
      throw new UnauthorizedException({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'a valid admin bearer token is required' });
    }
    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
