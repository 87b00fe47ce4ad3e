import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify } from 'jose';
import { ReadStateError } from '../domain/read-state.errors';
import { READ_STATE_CONFIG, type ReadStateConfig } from '../config';

/**
 * Who may act for a user over HTTP: the product backend with a JWT (HS256, signed with
 * HEARTH_JWT_SECRET) whose `sub` is that user's bare JID, or an operator with HEARTH_ADMIN_TOKEN.
 * `Authorization: Bearer <token>` (RFC 6750 §2.1).
 */
@Injectable()
export class HttpAuth {
  private readonly jwtKey?: Uint8Array;
  private readonly adminToken?: Buffer;

  constructor(@Inject(READ_STATE_CONFIG) config: ReadStateConfig) {
    if (config.HEARTH_JWT_SECRET) this.jwtKey = new TextEncoder().encode(config.HEARTH_JWT_SECRET);
    if (config.HEARTH_ADMIN_TOKEN) this.adminToken = Buffer.from(config.HEARTH_ADMIN_TOKEN);
  }

  async authorize(authorization: string | undefined, user: string): Promise<void> {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new ReadStateError('not-authorized', 'send Authorization: Bearer <JWT or admin token>');
    if (this.adminToken) {
      const given = Buffer.from(token);
      if (given.length === this.adminToken.length && timingSafeEqual(given, this.adminToken)) return;
    }
    if (!this.jwtKey) throw new ReadStateError('not-authorized', 'JWTs are not accepted: HEARTH_JWT_SECRET is not set');
    let subject: string | undefined;
    try {
      subject = (await jwtVerify(token, this.jwtKey, { algorithms: ['HS256'] })).payload.sub;
    } catch (error) {
      throw new ReadStateError('not-authorized', `invalid token: ${(error as Error).message}`);
    }
    if (subject?.toLowerCase() !== user) throw new ReadStateError('forbidden', `the token is for ${subject ?? 'nobody'}, not ${user}`);
  }
}
