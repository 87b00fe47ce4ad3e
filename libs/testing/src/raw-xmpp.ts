/**
 * A deliberately minimal XMPP client for benchmarks: direct TLS (XEP-0368), SCRAM-SHA-256 (RFC
 * 7677) and resource binding over a raw socket, matching the server's output with regular
 * expressions, so a benchmark measures the server and not an XMPP library. Tests use
 * `connectXmpp` (a real client library) instead.
 *
 * SaltedPassword is cached per password, salt and iteration count, as real clients cache it
 * (XMPPFramework, Conversations, Gajim): only a client's first login pays PBKDF2.
 */
import { createHash, createHmac, createSecretKey, pbkdf2, randomBytes } from 'node:crypto';
import { connect, type SecureContext, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
const saltedPasswords = new Map<string, Promise<Buffer>>();

function saltedPassword(password: string, salt: string, iterations: number): Promise<Buffer> {
  const key = `${password}\n${salt}\n${iterations}`;
  let salted = saltedPasswords.get(key);
  if (!salted) saltedPasswords.set(key, (salted = pbkdf2Async(password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256')));
  return salted;
}

export interface RawXmppOptions {
  port: number;
  /** Trust for the gateway's certificate, built once per process as a client app does. */
  trust: SecureContext;
  domain?: string;
  /** A TLS session (ticket) to resume. */
  session?: Buffer;
}

export class RawXmppConnection {
  private text = '';
  private wake: (() => void) | null = null;
  private readonly socket: TLSSocket;
  private readonly header: string;
  /** Called with what arrives after login (set `onData` before logging in to see it all). */
  onData: ((chunk: string) => void) | null = null;

  constructor(options: RawXmppOptions) {
    const domain = options.domain ?? 'localhost';
    this.header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
    this.socket = connect({ port: options.port, host: '127.0.0.1', servername: domain, secureContext: options.trust, session: options.session });
    this.socket.setEncoding('utf8');
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: string) => {
      if (this.onData) return this.onData(chunk);
      this.text += chunk;
      this.wake?.();
    });
    this.socket.on('error', () => this.wake?.());
    this.socket.on('close', () => this.wake?.());
  }

  /** The TLS session ticket the server issues, for a later resumption. */
  onTlsSession(listener: (ticket: Buffer) => void): void {
    this.socket.on('session', listener);
  }

  get tlsSessionReused(): boolean {
    return this.socket.isSessionReused();
  }

  /** Authenticates with SCRAM-SHA-256 and binds a resource; afterwards arrivals go to `onData`. */
  async login(username: string, password: string, onData: (chunk: string) => void = () => undefined): Promise<void> {
    const { firstBare, serverFirst, attrs } = await this.clientFirst(username);
    const salted = await saltedPassword(password, attrs.get('s')!, Number(attrs.get('i')));
    // KeyObjects as keys: Node 24's createHmac is several times slower given a Buffer key.
    const clientKey = createHmac('sha256', createSecretKey(salted)).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.get('r')}`;
    const signature = createHmac('sha256', createSecretKey(storedKey)).update(`${firstBare},${serverFirst},${withoutProof}`).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)).toString('base64');
    this.write(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`${withoutProof},p=${proof}`).toString('base64')}</response>`);
    await this.expect(/<success/);
    this.write(this.header);
    await this.expect(/<\/stream:features>/);
    this.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
    await this.expect(/<jid>[^<]+<\/jid>/);
    const rest = this.text;
    this.text = '';
    this.onData = onData;
    if (rest) onData(rest);
  }

  /**
   * Reads the account's salt and iteration count from server-first and derives SaltedPassword
   * into the cache, then aborts the exchange (RFC 6120 §6.4.4: not a failed login) and closes.
   */
  async learnSalt(username: string, password: string): Promise<void> {
    const { attrs } = await this.clientFirst(username);
    await saltedPassword(password, attrs.get('s')!, Number(attrs.get('i')));
    this.write(`<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
    await this.expect(/<failure/);
    this.close();
  }

  write(text: string): void {
    this.socket.write(text);
  }

  close(): void {
    this.socket.destroy();
  }

  private async clientFirst(username: string) {
    this.write(this.header);
    await this.expect(/<\/stream:features>/);
    const firstBare = `n=${username},r=${randomBytes(18).toString('base64')}`;
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${Buffer.from(`n,,${firstBare}`).toString('base64')}</auth>`);
    const serverFirst = Buffer.from((await this.expect(/<challenge[^>]*>([^<]+)<\/challenge>/))[1]!, 'base64').toString();
    const attrs = new Map(serverFirst.split(',').map((p) => [p[0], p.slice(2)] as const));
    return { firstBare, serverFirst, attrs };
  }

  private async expect(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const match = pattern.exec(this.text);
      if (match) {
        this.text = this.text.slice(match.index + match[0].length);
        return match;
      }
      if (this.socket.destroyed) throw new Error(`connection closed while waiting for ${pattern}: ${this.text.slice(-300)}`);
      await new Promise<void>((done) => (this.wake = done));
    }
  }
}
