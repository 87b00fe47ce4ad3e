import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/**
 * XMPP test clients on @xmpp/client (a real, independent client library): log in over TCP with
 * STARTTLS, direct TLS or WebSocket with any SASL mechanism the gateway offers, then send stanzas
 * and wait for the ones expected. @xmpp/client ships SCRAM-SHA-1 and PLAIN; SCRAM-SHA-256,
 * OAUTHBEARER and X-OAUTH2 are added here through its SASL factory.
 */

/** The slice of @xmpp/xml's (ltx) element used by tests. */
export interface XmppElement {
  name: string;
  attrs: Record<string, string | undefined>;
  children: Array<XmppElement | string>;
  is(name: string, xmlns?: string): boolean;
  getChild(name: string, xmlns?: string): XmppElement | undefined;
  getChildren(name: string, xmlns?: string): XmppElement[];
  getChildText(name: string, xmlns?: string): string | null;
  getChildElements(): XmppElement[];
  text(): string;
  toString(): string;
}

type XmlFactory = (name: string, attrs?: Record<string, string | undefined>, ...children: Array<XmppElement | string | undefined>) => XmppElement;

interface SaslMechanismClass {
  new (): unknown;
  prototype: { name: string; clientFirst: boolean };
}

interface RawClient {
  start(): Promise<{ toString(): string }>;
  connect(service: string): Promise<void>;
  open(options: { domain: string }): Promise<void>;
  once(event: 'online', listener: (jid: { toString(): string }) => void): void;
  once(event: 'error', listener: (error: unknown) => void): void;
  stop(): Promise<void>;
  send(element: XmppElement): Promise<void>;
  on(event: 'stanza', listener: (stanza: XmppElement) => void): void;
  on(event: 'error' | 'offline' | 'online' | 'nonza' | 'element', listener: (value: unknown) => void): void;
  removeAllListeners(event?: string): void;
  iqCaller: { request(element: XmppElement, timeout?: number): Promise<XmppElement> };
  saslFactory: { use(mech: SaslMechanismClass): void; _mechs: Array<{ name: string }> };
  reconnect: { stop(): void };
  jid: { toString(): string } | null;
  status: string;
}

interface XmppClientModule {
  client(options: Record<string, unknown>): RawClient;
  xml: XmlFactory;
}

// @xmpp/client is ESM-only and untyped; Node 24 loads it with require(esm).
const xmppClient = require('@xmpp/client') as XmppClientModule;
export const xml: XmlFactory = xmppClient.xml;

export type SaslMechanismName = 'SCRAM-SHA-1' | 'SCRAM-SHA-256' | 'PLAIN' | 'OAUTHBEARER' | 'X-OAUTH2';

/** Trusts a certificate (the gateway's self-signed dev certificate) for every TLS client in this process. */
export function trustCertificate(pemFile: string): void {
  const pem = readFileSync(pemFile, 'utf8');
  const current = tls.getCACertificates('default');
  if (!current.includes(pem)) tls.setDefaultCACertificates([...current, pem]);
}

export interface XmppLogin {
  /** `xmpp://host:port` (STARTTLS), `xmpps://host:port` (direct TLS) or `ws(s)://host:port/xmpp-websocket`. */
  service: string;
  domain: string;
  username: string;
  password?: string;
  token?: string;
  mechanism: SaslMechanismName;
  resource?: string;
  /** Milliseconds to wait for login; default 10 s. */
  timeoutMs?: number;
}

// SCRAM-SHA-256 client (RFC 7677), for @xmpp/client's SASL factory.
function scramClient(name: string, hash: 'sha1' | 'sha256'): SaslMechanismClass {
  const bytes = hash === 'sha1' ? 20 : 32;
  class Scram {
    private stage: 'first' | 'final' | 'done' = 'first';
    private clientNonce = randomBytes(18).toString('base64');
    private firstBare = '';
    private serverFirst = '';
    response(credentials: { username: string; password: string }): string {
      if (this.stage === 'first') {
        this.stage = 'final';
        this.firstBare = `n=${credentials.username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.clientNonce}`;
        return `n,,${this.firstBare}`;
      }
      if (this.stage !== 'final') return '';
      this.stage = 'done';
      const attrs = new Map(this.serverFirst.split(',').map((p) => [p[0], p.slice(2)] as const));
      const salted = pbkdf2Sync(credentials.password.normalize('NFKC'), Buffer.from(attrs.get('s') ?? '', 'base64'), Number(attrs.get('i')), bytes, hash);
      const clientKey = createHmac(hash, salted).update('Client Key').digest();
      const storedKey = createHash(hash).update(clientKey).digest();
      const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${attrs.get('r')}`;
      const signature = createHmac(hash, storedKey).update(`${this.firstBare},${this.serverFirst},${withoutProof}`).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
      return `${withoutProof},p=${proof.toString('base64')}`;
    }
    challenge(challenge: string): this {
      if (this.stage === 'final') this.serverFirst = challenge;
      return this;
    }
  }
  Object.assign(Scram.prototype, { name, clientFirst: true });
  return Scram as unknown as SaslMechanismClass;
}

/** RFC 7628 OAUTHBEARER client: one message with the token; answers an error challenge with %x01. */
class OAuthBearer {
  private sent = false;
  response(credentials: { username: string; token: string; server: string }): string {
    if (this.sent) return '\u0001';
    this.sent = true;
    return `n,a=${credentials.username}@${credentials.server},\u0001auth=Bearer ${credentials.token}\u0001\u0001`;
  }
  challenge(): this {
    return this;
  }
}
Object.assign(OAuthBearer.prototype, { name: 'OAUTHBEARER', clientFirst: true });

/** X-OAUTH2 as XMPPFramework sends it: NUL, the user, NUL, the token. */
class XOAuth2 {
  response(credentials: { username: string; token: string }): string {
    return `\u0000${credentials.username}\u0000${credentials.token}`;
  }
  challenge(): this {
    return this;
  }
}
Object.assign(XOAuth2.prototype, { name: 'X-OAUTH2', clientFirst: true });

/** A logged-in client that records every stanza it receives, so a test can wait for one that already came. */
export class TestXmppClient {
  readonly received: XmppElement[] = [];
  private readonly waiters = new Set<{ match: (s: XmppElement) => boolean; resolve: (s: XmppElement) => void }>();
  closedWith: unknown = null;

  constructor(
    readonly raw: RawClient,
    readonly jid: string,
    /** The stream features the server offered once authenticated. */
    readonly streamFeatures?: XmppElement,
  ) {
    raw.on('stanza', (stanza) => {
      this.received.push(stanza);
      for (const waiter of this.waiters) {
        if (waiter.match(stanza)) {
          this.waiters.delete(waiter);
          waiter.resolve(stanza);
        }
      }
    });
  }

  get bareJid(): string {
    return this.jid.split('/')[0]!;
  }

  send(element: XmppElement): Promise<void> {
    return this.raw.send(element);
  }

  /** Sends an IQ get/set and resolves with the result (rejects with the stanza error). */
  iq(type: 'get' | 'set', payload: XmppElement, to?: string, timeoutMs = 5_000): Promise<XmppElement> {
    return this.raw.iqCaller.request(xml('iq', { type, to }, payload), timeoutMs);
  }

  /** Resolves with the first received stanza (earlier ones included) that matches; rejects after the timeout. */
  waitFor(match: (stanza: XmppElement) => boolean, description: string, timeoutMs = 5_000): Promise<XmppElement> {
    const already = this.received.find(match);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (s: XmppElement) => (clearTimeout(timer), resolve(s)) };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.jid} did not receive ${description} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Forgets what was received so far, so the next waitFor sees only new stanzas. */
  clearReceived(): void {
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    this.raw.reconnect.stop();
    await this.raw.stop().catch(() => undefined);
  }
}

function createClient(login: XmppLogin): RawClient {
  // @xmpp/connection waits 2 s for each stream (re)open by default; a loaded CI machine needs more.
  const client = xmppClient.client({ service: login.service, domain: login.domain, resource: login.resource, timeout: login.timeoutMs ?? 10_000,
    credentials: async (authenticate: (c: Record<string, unknown>, m: string) => Promise<void>, offered: string[]) => {
      if (!offered.includes(login.mechanism)) throw new Error(`the server does not offer ${login.mechanism} (offers ${offered.join(', ')})`);
      await authenticate({ username: login.username, password: login.password, token: login.token }, login.mechanism);
    },
  });
  client.reconnect.stop();
  client.saslFactory.use(scramClient('SCRAM-SHA-256', 'sha256'));
  client.saslFactory.use(OAuthBearer as unknown as SaslMechanismClass);
  client.saslFactory.use(XOAuth2 as unknown as SaslMechanismClass);
  client.on('error', () => undefined); // failures surface through start()
  return client;
}

/** Logs in and binds a resource; rejects with @xmpp/client's error (a SASLError has `.condition`). */
export async function connectXmpp(login: XmppLogin): Promise<TestXmppClient> {
  const client = createClient(login);
  let timer: NodeJS.Timeout | undefined;
  let features: XmppElement | undefined;
  client.on('element', (value) => {
    const element = value as XmppElement;
    if (element.is('features', 'http://etherx.jabber.org/streams')) features = element;
  });
  try {
    // Like client.start(), but every rejection is awaited: start() leaves its "online" promise
    // unhandled when a SASL failure arrives while the stream is still opening.
    const online = new Promise<{ toString(): string }>((resolve, reject) => {
      client.once('online', resolve);
      client.once('error', reject);
    });
    online.catch(() => undefined);
    await client.connect(login.service);
    client.open({ domain: login.domain }).catch(() => undefined);
    const jid = await Promise.race([
      online,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`login of ${login.username} timed out`)), login.timeoutMs ?? 10_000);
      }),
    ]);
    return new TestXmppClient(client, jid.toString(), features);
  } catch (error) {
    await client.stop().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Attempts a login that must fail; resolves with the SASL condition (or the error message). */
export async function failedLogin(login: XmppLogin): Promise<string> {
  try {
    const client = await connectXmpp(login);
    await client.stop();
  } catch (error) {
    const condition = (error as { condition?: string }).condition;
    return condition ?? (error as Error).message;
  }
  throw new Error(`login of ${login.username} with ${login.mechanism} succeeded but should have failed`);
}
