import type { AccountStore } from '../../accounts/account-store';
import { SaslFailure } from '../../stream/errors';
import type { Jid } from '../../xml/jid';
import { accountJid, checkAuthzid, type AdmitAccount, type SaslExchange, type SaslMechanism, type SaslStep } from '../sasl-mechanism';
import { TokenRejected, type TokenVerifier } from '../token-verifier';
import { splitNulSeparated } from './plain.mechanism';

/** What a token mechanism extracts from the client's message before the token is checked. */
interface BearerCredentials {
  authzid: string;
  /** The authentication identity the client claims, when the format carries one. */
  authcid: string | undefined;
  token: string;
}

/** Called when a token for an unknown account is valid: create it (configured), or refuse. */
export type UnknownAccountPolicy = (jid: Jid) => Promise<boolean>;

/**
 * Token login shared by OAUTHBEARER (RFC 7628) and X-OAUTH2 (Google's, what XMPPFramework
 * offers): they differ only in how the token is framed, so each passes its parser.
 */
export class TokenMechanism implements SaslMechanism {
  constructor(
    readonly name: 'OAUTHBEARER' | 'X-OAUTH2',
    private readonly parse: (input: Buffer) => BearerCredentials,
    private readonly verifier: TokenVerifier,
    private readonly accounts: AccountStore,
    private readonly onUnknownAccount: UnknownAccountPolicy,
    private readonly onRejected: (reason: string) => void,
  ) {}

  offered(secure: boolean): boolean {
    return secure; // a bearer token is a password: never in the clear
  }

  start(domain: string): SaslExchange {
    const mechanism = this;
    let failed = false;
    return {
      async step(input: Buffer, admit: AdmitAccount): Promise<SaslStep> {
        // RFC 7628 §3.2.3: after an error challenge the client answers with a single %x01.
        if (failed) throw new SaslFailure('not-authorized');
        const credentials = mechanism.parse(input);
        if (credentials.authcid !== undefined) admit(credentials.authcid);
        let subject: string;
        try {
          subject = await mechanism.verifier.verify(credentials.token);
        } catch (error) {
          if (!(error instanceof TokenRejected)) throw error;
          mechanism.onRejected(error.reason);
          if (mechanism.name === 'OAUTHBEARER') {
            failed = true;
            return { kind: 'challenge', data: Buffer.from(JSON.stringify({ status: 'invalid_token' })) };
          }
          throw new SaslFailure('not-authorized');
        }
        const jid = accountJid(subject, domain);
        admit(jid.local);
        if (credentials.authcid !== undefined && accountJid(credentials.authcid, domain).toString() !== jid.toString()) {
          throw new SaslFailure('not-authorized');
        }
        checkAuthzid(credentials.authzid, jid);
        if (!(await mechanism.accounts.find(jid.toString())) && !(await mechanism.onUnknownAccount(jid))) {
          throw new SaslFailure('not-authorized');
        }
        return { kind: 'success', jid };
      },
    };
  }
}

/** RFC 7628 §3.1: gs2-header, then key=value pairs separated by %x01, ending in %x01%x01. */
export function parseOauthBearer(input: Buffer): BearerCredentials {
  const message = input.toString('utf8');
  const match = /^n,(?:a=([^,]*))?,\u0001(.*)\u0001\u0001$/s.exec(message);
  if (!match) throw new SaslFailure('malformed-request');
  const pairs = new Map(match[2]!.split('\u0001').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const auth = /^Bearer\s+(\S+)$/i.exec(pairs.get('auth') ?? '');
  if (!auth) throw new SaslFailure('malformed-request');
  return { authzid: (match[1] ?? '').replace(/=2C/g, ',').replace(/=3D/g, '='), authcid: undefined, token: auth[1]! };
}

/** X-OAUTH2: `authzid NUL authcid NUL token`, like PLAIN with the token as the password. */
export function parseXOauth2(input: Buffer): BearerCredentials {
  const [authzid, authcid, token] = splitNulSeparated(input);
  return { authzid, authcid, token };
}
