import { Inject, Injectable } from '@nestjs/common';
import { BearerAuthentication, BearerRefused } from '@hearth/nest-service';
import { PUSH_CONFIG, type PushConfig } from '../config';
import { PushError } from '../domain/push.errors';

/** Who may act for a user over HTTP: that user (a product-backend JWT), or an operator (the admin token). */
@Injectable()
export class HttpAuth {
  private readonly bearer: BearerAuthentication;

  constructor(@Inject(PUSH_CONFIG) config: PushConfig) {
    this.bearer = new BearerAuthentication({ jwtSecret: config.HEARTH_JWT_SECRET, adminToken: config.HEARTH_ADMIN_TOKEN });
  }

  async authorize(authorization: string | undefined, user: string): Promise<void> {
    let identity;
    try {
      identity = await this.bearer.authenticate(authorization);
    } catch (error) {
      throw error instanceof BearerRefused ? new PushError('not-authorized', error.message) : error;
    }
    if (!identity.admin && identity.user !== user.toLowerCase()) throw new PushError('forbidden', `the token is for ${identity.user}, not ${user}`);
  }
}
