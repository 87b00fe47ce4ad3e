import { createHash, createHmac, createSecretKey, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** The hashes SCRAM runs on here: SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677). */
export type ScramHash = 'sha1' | 'sha256';
export const SCRAM_HASHES: readonly ScramHash[] = ['sha1', 'sha256'];
const DIGEST_BYTES: Record<ScramHash, number> = { sha1: 20, sha256: 32 };
const SALT_BYTES = 16;

/**
 * What the server keeps for one hash (RFC 5802 §3): salt, iteration count, StoredKey and
 * ServerKey. The password itself, and SaltedPassword, are never stored.
 */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export type ScramCredentials = Record<ScramHash, ScramCredential>;

/** SASLprep (RFC 4013) approximated by NFKC, applied the same way when storing and when checking. */
export function prepPassword(password: string): string {
  return password.normalize('NFKC');
}

export function hmac(hash: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  // Keyed with a KeyObject, not the Buffer itself: given a Buffer, Node 24's createHmac first
  // tries it as a KeyObject and a CryptoKey (failed brand checks, ~15 µs a call, several times
  // the HMAC); createSecretKey skips those. Three of these run per SCRAM login.
  return createHmac(hash, createSecretKey(key)).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Hi() of RFC 5802 §2.2 is PBKDF2 with HMAC as the PRF. */
export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(prepPassword(password), salt, iterations, DIGEST_BYTES[hash], hash);
}

export function keysFromSaltedPassword(hash: ScramHash, salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { clientKey, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

export async function deriveCredential(hash: ScramHash, password: string, iterations: number, salt = randomBytes(SALT_BYTES)): Promise<ScramCredential> {
  const { storedKey, serverKey } = keysFromSaltedPassword(hash, await saltedPassword(hash, password, salt, iterations));
  return { salt, iterations, storedKey, serverKey };
}

export async function deriveCredentials(password: string, iterations: number): Promise<ScramCredentials> {
  const [sha1, sha256] = await Promise.all(SCRAM_HASHES.map((hash) => deriveCredential(hash, password, iterations)));
  return { sha1: sha1!, sha256: sha256! };
}

/** Checks a cleartext password (SASL PLAIN) against a stored credential without keeping the password. */
export async function verifyPassword(credential: ScramCredential, hash: ScramHash, password: string): Promise<boolean> {
  const { storedKey } = keysFromSaltedPassword(hash, await saltedPassword(hash, password, credential.salt, credential.iterations));
  return timingSafeEqual(storedKey, credential.storedKey);
}

/**
 * The server's two checks in client-final (RFC 5802 §3): recover ClientKey from the proof and
 * compare H(ClientKey) with StoredKey in constant time; on success return ServerSignature.
 */
export function verifyClientProof(credential: ScramCredential, hash: ScramHash, authMessage: string, proof: Buffer): Buffer | null {
  const clientSignature = hmac(hash, credential.storedKey, authMessage);
  if (proof.length !== clientSignature.length) return null;
  const clientKey = xor(proof, clientSignature);
  if (!timingSafeEqual(digest(hash, clientKey), credential.storedKey)) return null;
  return hmac(hash, credential.serverKey, authMessage);
}

/**
 * A stand-in credential for a username that does not exist: salt derived from a per-process
 * secret so it is stable across attempts, and a proof that can never match. The exchange then
 * looks exactly like one for a real account (RFC 5802 §9, account enumeration).
 */
export function decoyCredential(hash: ScramHash, secret: Buffer, username: string, iterations: number): ScramCredential {
  return {
    salt: hmac('sha256', secret, `${hash}:${username}`).subarray(0, SALT_BYTES),
    iterations,
    storedKey: randomBytes(DIGEST_BYTES[hash]),
    serverKey: randomBytes(DIGEST_BYTES[hash]),
  };
}

/** Parses `a=1,b=2` SCRAM attribute lists (RFC 5802 §5.1). */
export function parseAttributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) continue;
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** saslname decoding: `=2C` is `,` and `=3D` is `=`; any other `=` makes it invalid (RFC 5802 §5.1). */
export function decodeSaslName(value: string): string | null {
  if (/=(?!2C|3D)/.test(value)) return null;
  return value.replace(/=2C/g, ',').replace(/=3D/g, '=');
}
