import { Inject, Injectable } from '@nestjs/common';
import { BearerAuthentication, BearerRefused } from '@hearth/nest-service';
import { ARCHIVE_CONFIG, type ArchiveConfig } from '../config';
import { ArchiveError } from '../domain/archive-error';

/**
 * Who may read a user's archive over HTTP: that user (a product-backend JWT), or an operator
 * (the admin token). Returns the requester to check against the owner.
 */
@Injectable()
export class HttpAuth {
  private readonly bearer: BearerAuthentication;

  constructor(@Inject(ARCHIVE_CONFIG) config: ArchiveConfig) {
    this.bearer = new BearerAuthentication({ jwtSecret: config.HEARTH_JWT_SECRET, adminToken: config.HEARTH_ADMIN_TOKEN });
  }

  /** The bare JID acting: the token's subject, or `owner` itself for the admin token. */
  async requesterFor(authorization: string | undefined, owner: string): Promise<string> {
    try {
      const identity = await this.bearer.authenticate(authorization);
      return identity.admin ? owner : identity.user;
    } catch (error) {
      throw error instanceof BearerRefused ? new ArchiveError('not-authorized', error.message) : error;
    }
  }
}
