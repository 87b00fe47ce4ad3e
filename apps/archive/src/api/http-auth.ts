import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify } from 'jose';
import { ARCHIVE_CONFIG, type ArchiveConfig } from '../config';
import { ArchiveError } from '../domain/archive-error';

/**
 * Who may read a user's archive over HTTP: a JWT (HS256, HEARTH_JWT_SECRET, the same tokens
 * the gateway accepts) whose `sub` is that user's bare JID, or HEARTH_ADMIN_TOKEN.
 * `Authorization: Bearer <token>` (RFC 6750 §2.1). Returns the requester to check against the owner.
 */
@Injectable()
export class HttpAuth {
  private readonly jwtKey?: Uint8Array;
  private readonly adminToken?: Buffer;

  constructor(@Inject(ARCHIVE_CONFIG) config: ArchiveConfig) {
    if (config.HEARTH_JWT_SECRET) this.jwtKey = new TextEncoder().encode(config.HEARTH_JWT_SECRET);
    if (config.HEARTH_ADMIN_TOKEN) this.adminToken = Buffer.from(config.HEARTH_ADMIN_TOKEN);
  }

  /** The bare JID acting: the token's subject, or `owner` itself for the admin token. */
  async requesterFor(authorization: string | undefined, owner: string): Promise<string> {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new ArchiveError('not-authorized', 'send Authorization: Bearer <JWT or admin token>');
    if (this.adminToken) {
      const given = Buffer.from(token);
      if (given.length === this.adminToken.length && timingSafeEqual(given, this.adminToken)) return owner;
    }
    if (!this.jwtKey) throw new ArchiveError('not-authorized', 'JWTs are not accepted: HEARTH_JWT_SECRET is not set');
    try {
      const subject = (await jwtVerify(token, this.jwtKey, { algorithms: ['HS256'] })).payload.sub;
      if (!subject) throw new Error('no sub claim');
      return subject.toLowerCase();
    } catch (error) {
      throw new ArchiveError('not-authorized', `invalid token: ${(error as Error).message}`);
    }
  }
}
