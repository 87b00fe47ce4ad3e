import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, errors, jwtVerify, SignJWT, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface TokenVerifierOptions {
  secret?: string;
  publicKeyFile?: string;
  jwksFile?: string;
  issuer?: string;
  audience?: string;
}

/** Why a token was refused; logged (never the token itself), never told to the client. */
export type TokenRejection = 'expired' | 'not-yet-valid' | 'bad-signature' | 'bad-claims' | 'malformed';

export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
  constructor(readonly reason: TokenRejection) {
    super(reason);
  }
}

const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Verifies the JWTs a product backend signs for its users (token login, DESIGN.md): HS256 with a
 * shared secret, or RS256/ES256/EdDSA with a public key or a JWKS file. `exp` and `sub` are
 * required; `nbf`, `iss` and `aud` are checked when configured or present.
 */
export class TokenVerifier {
  private constructor(
    private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey,
    private readonly algorithms: string[],
    private readonly options: TokenVerifierOptions,
  ) {}

  /** null when no key is configured: token mechanisms are then not offered. */
  static fromOptions(options: TokenVerifierOptions): TokenVerifier | null {
    if (options.jwksFile) {
      const jwks = JSON.parse(readFileSync(options.jwksFile, 'utf8')) as JSONWebKeySet;
      return new TokenVerifier(createLocalJWKSet(jwks), ['RS256', 'PS256', 'ES256', 'EdDSA'], options);
    }
    if (options.publicKeyFile) {
      const key = createPublicKey(readFileSync(options.publicKeyFile));
      const algorithm = key.asymmetricKeyType === 'rsa' ? ['RS256', 'PS256'] : key.asymmetricKeyType === 'ec' ? ['ES256'] : ['EdDSA'];
      return new TokenVerifier(key, algorithm, options);
    }
    if (options.secret) return new TokenVerifier(new TextEncoder().encode(options.secret), ['HS256'], options);
    return null;
  }

  /** Returns the token's subject. */
  async verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      return payload.sub!;
    } catch (error) {
      throw new TokenRejected(rejection(error));
    }
  }
}

function rejection(error: unknown): TokenRejection {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return error.claim === 'nbf' ? 'not-yet-valid' : 'bad-claims';
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) return 'bad-signature';
  return 'malformed';
}

/** Issues a development token with the shared HS256 secret (admin API `POST /admin/tokens`). */
export function issueDevelopmentToken(secret: string, subject: string, ttlSeconds: number, issuer?: string, audience?: string): Promise<string> {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(subject).setIssuedAt().setExpirationTime(`${ttlSeconds}s`);
  if (issuer) jwt = jwt.setIssuer(issuer);
  if (audience) jwt = jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
