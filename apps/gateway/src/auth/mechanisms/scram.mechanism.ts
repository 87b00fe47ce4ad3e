import { randomBytes } from 'node:crypto';
import type { AccountStore } from '../../accounts/account-store';
import { SaslFailure } from '../../stream/errors';
import { decodeSaslName, decoyCredential, parseAttributes, verifyClientProof, type ScramCredential, type ScramHash } from '../scram';
import { accountJid, checkAuthzid, type AdmitAccount, type SaslExchange, type SaslMechanism, type SaslStep } from '../sasl-mechanism';
import type { Jid } from '../../xml/jid';

/**
 * SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), server side. Channel binding is not
 * offered (no -PLUS variants), so a client asking for it ("p=") is refused, while "y" (client
 * could bind, thinks we cannot) is accepted as RFC 5802 §6 allows when no -PLUS is advertised.
 */
export class ScramMechanism implements SaslMechanism {
  readonly name: string;

  constructor(
    private readonly hash: ScramHash,
    private readonly accounts: AccountStore,
    private readonly decoySecret: Buffer,
    private readonly decoyIterations: number,
  ) {
    this.name = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
  }

  offered(): boolean {
    return true;
  }

  start(domain: string): SaslExchange {
    return new ScramExchange(this, domain);
  }

  /** The stored credential for the account, or a decoy so unknown accounts fail indistinguishably. */
  async credentialFor(jid: Jid): Promise<{ credential: ScramCredential; real: boolean }> {
    const account = await this.accounts.find(jid.toString());
    if (account) return { credential: account.scram[this.hash], real: true };
    return { credential: decoyCredential(this.hash, this.decoySecret, jid.toString(), this.decoyIterations), real: false };
  }

  get hashName(): ScramHash {
    return this.hash;
  }
}

class ScramExchange implements SaslExchange {
  private state: 'first' | 'final' | 'done' = 'first';
  private jid: Jid | null = null;
  private credential: ScramCredential | null = null;
  private real = false;
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly domain: string,
  ) {}

  async step(input: Buffer, admit: AdmitAccount): Promise<SaslStep> {
    if (this.state === 'first') return this.clientFirst(input.toString('utf8'), admit);
    if (this.state === 'final') return this.clientFinal(input.toString('utf8'));
    throw new SaslFailure('malformed-request');
  }

  // client-first-message = gs2-header client-first-message-bare (RFC 5802 §7)
  private async clientFirst(message: string, admit: AdmitAccount): Promise<SaslStep> {
    const match = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(message);
    if (!match) throw new SaslFailure('malformed-request');
    const [, cbflag, authzidPart, bare] = match;
    if (cbflag!.startsWith('p=')) throw new SaslFailure('not-authorized', 'channel binding is not supported');
    const attrs = parseAttributes(bare!);
    const name = decodeSaslName(attrs.get('n') ?? '');
    const clientNonce = attrs.get('r');
    if (!name || !clientNonce || bare!.startsWith('m=')) throw new SaslFailure('malformed-request');
    admit(name);
    this.jid = accountJid(name, this.domain);
    const authzid = authzidPart ? decodeSaslName(authzidPart.slice(2)) : '';
    if (authzid === null) throw new SaslFailure('malformed-request');
    checkAuthzid(authzid, this.jid);

    const { credential, real } = await this.mechanism.credentialFor(this.jid);
    this.credential = credential;
    this.real = real;
    this.gs2Header = `${cbflag},${authzidPart ?? ''},`;
    this.clientFirstBare = bare!;
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.state = 'final';
    return { kind: 'challenge', data: Buffer.from(this.serverFirst) };
  }

  // client-final-message = channel-binding "," nonce ["," extensions] "," proof
  private async clientFinal(message: string): Promise<SaslStep> {
    this.state = 'done';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new SaslFailure('malformed-request');
    const withoutProof = message.slice(0, proofAt);
    const attrs = parseAttributes(message);
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) throw new SaslFailure('not-authorized');
    if (attrs.get('r') !== this.nonce) throw new SaslFailure('not-authorized');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const serverSignature = verifyClientProof(this.credential!, this.mechanism.hashName, authMessage, proof);
    if (!serverSignature || !this.real) throw new SaslFailure('not-authorized');
    return { kind: 'success', jid: this.jid!, data: Buffer.from(`v=${serverSignature.toString('base64')}`) };
  }
}
