import { timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';

/** A request's bearer token was missing or not valid; the message says which (never the token). */
export class BearerRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BearerRefused';
  }
}

/** Who a request acts as: an operator (the admin token), or a user (the JWT's `sub`, a bare JID). */
export type BearerIdentity = { admin: true } | { admin: false; user: string };

/**
 * The services' HTTP authentication: `Authorization: Bearer <token>` (RFC 6750 §2.1) with either
 * HEARTH_ADMIN_TOKEN (compared in constant time) or a product-backend JWT (HS256 with
 * HEARTH_JWT_SECRET, the tokens the gateway accepts) whose `sub` is the user's bare JID. Each
 * service decides what the identity may do and translates BearerRefused into its own error.
 */
export class BearerAuthentication {
  private readonly jwtKey?: Uint8Array;
  private readonly adminToken?: Buffer;

  constructor(options: { jwtSecret?: string; adminToken?: string }) {
    if (options.jwtSecret) this.jwtKey = new TextEncoder().encode(options.jwtSecret);
    if (options.adminToken) this.adminToken = Buffer.from(options.adminToken);
  }

  async authenticate(authorization: string | undefined): Promise<BearerIdentity> {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new BearerRefused('send Authorization: Bearer <JWT or admin token>');
    if (this.adminToken) {
      const given = Buffer.from(token);
      if (given.length === this.adminToken.length && timingSafeEqual(given, this.adminToken)) return { admin: true };
    }
    if (!this.jwtKey) throw new BearerRefused('JWTs are not accepted: HEARTH_JWT_SECRET is not set');
    let subject: string | undefined;
    try {
      subject = (await jwtVerify(token, this.jwtKey, { algorithms: ['HS256'] })).payload.sub;
    } catch (error) {
      throw new BearerRefused(`invalid token: ${(error as Error).message}`);
    }
    if (!subject) throw new BearerRefused('invalid token: no sub claim');
    return { admin: false, user: subject.toLowerCase() };
  }
}
