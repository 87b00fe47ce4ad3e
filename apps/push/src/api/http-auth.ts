import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify } from 'jose';
import { PushError } from '../domain/push.errors';
import { PUSH_CONFIG, type PushConfig } from '../config';

/**
 * Who may act for a user over HTTP: the product backend with a JWT (HS256, signed with
 * HEARTH_JWT_SECRET) whose `sub` is that user's bare JID, or HEARTH_ADMIN_TOKEN.
 * `Authorization: Bearer <token>` (RFC 6750 §2.1).
 */
@Injectable()
export class HttpAuth {
  private readonly jwtKey?: Uint8Array;
  private readonly adminToken?: Buffer;

  constructor(@Inject(PUSH_CONFIG) config: PushConfig) {
    if (config.HEARTH_JWT_SECRET) this.jwtKey = new TextEncoder().encode(config.HEARTH_JWT_SECRET);
    if (config.HEARTH_ADMIN_TOKEN) this.adminToken = Buffer.from(config.HEARTH_ADMIN_TOKEN);
  }

  async authorize(authorization: string | undefined, user: string): Promise<void> {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new PushError('not-authorized', 'send Authorization: Bearer <JWT or admin token>');
    if (this.adminToken) {
      const given = Buffer.from(token);
      if (given.length === this.adminToken.length && timingSafeEqual(given, this.adminToken)) return;
    }
    if (!this.jwtKey) throw new PushError('not-authorized', 'JWTs are not accepted: HEARTH_JWT_SECRET is not set');
    let subject: string | undefined;
    try {
      subject = (await jwtVerify(token, this.jwtKey, { algorithms: ['HS256'] })).payload.sub;
    } catch (error) {
      throw new PushError('not-authorized', `invalid token: ${(error as Error).message}`);
    }
    if (subject?.toLowerCase() !== user.toLowerCase()) throw new PushError('forbidden', `the token is for ${subject ?? 'nobody'}, not ${user}`);
  }
}
