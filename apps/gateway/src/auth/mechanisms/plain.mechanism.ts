import type { AccountStore } from '../../accounts/account-store';
import { SaslFailure } from '../../stream/errors';
import { verifyPassword, type ScramCredential } from '../scram';
import { accountJid, checkAuthzid, type AdmitAccount, type SaslExchange, type SaslMechanism, type SaslStep } from '../sasl-mechanism';

/** Splits `authzid NUL authcid NUL secret` (RFC 4616 §2; X-OAUTH2 uses the same layout). */
export function splitNulSeparated(input: Buffer): [string, string, string] {
  const parts = input.toString('utf8').split('\u0000');
  if (parts.length !== 3 || !parts[1] || !parts[2]) throw new SaslFailure('malformed-request');
  return [parts[0]!, parts[1], parts[2]];
}

/**
 * PLAIN (RFC 4616), offered only under TLS. The password is checked against the stored
 * SCRAM-SHA-256 credential (StoredKey), so no password hash other than SCRAM's is kept.
 */
export class PlainMechanism implements SaslMechanism {
  readonly name = 'PLAIN';

  constructor(
    private readonly accounts: AccountStore,
    /** The decoy for unknown accounts, so a miss costs the same PBKDF2 time as a wrong password. */
    private readonly decoy: (jid: string) => ScramCredential,
  ) {}

  offered(secure: boolean): boolean {
    return secure;
  }

  start(domain: string): SaslExchange {
    const { accounts, decoy } = this;
    return {
      async step(input: Buffer, admit: AdmitAccount): Promise<SaslStep> {
        const [authzid, authcid, password] = splitNulSeparated(input);
        admit(authcid);
        const jid = accountJid(authcid, domain);
        checkAuthzid(authzid, jid);
        const account = await accounts.find(jid.toString());
        const credential = account?.scram.sha256 ?? decoy(jid.toString());
        if (!(await verifyPassword(credential, 'sha256', password)) || !account) throw new SaslFailure('not-authorized');
        return { kind: 'success', jid };
      },
    };
  }
}
