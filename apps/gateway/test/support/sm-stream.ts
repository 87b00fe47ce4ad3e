import { RawStream } from './raw-stream';

const SM = 'urn:xmpp:sm:3';
/** Top-level stanzas as the gateway writes them (nested ones only occur inside carbons and MAM results). */
const STANZA = /<(message|iq|presence)[\s/>]/g;

/**
 * A hand-driven client for XEP-0198 scenarios, where a test must decide exactly what is
 * acknowledged, when the connection breaks and what `h` a resumption claims: direct TLS
 * (XEP-0368), SASL PLAIN, then bind, enable or resume, with the raw text of the stream kept.
 */
export class SmStream {
  /** The stream id from the server's header: the id of a session bound on this stream. */
  streamId = '';
  /** Offset in `raw.text` from which received stanzas count for our `h` (after `<enabled/>` or `<resumed/>`). */
  private countFrom = 0;
  private countBase = 0;

  private constructor(readonly raw: RawStream) {}

  /** Opens a stream on the direct TLS port and authenticates; resolves at the post-SASL features. */
  static async login(tlsPort: number, jid: string, password: string): Promise<SmStream> {
    const raw = await RawStream.open(tlsPort, true);
    const stream = new SmStream(raw);
    await raw.write(RawStream.header());
    await raw.waitFor(/<\/stream:features>/);
    const local = jid.split('@')[0]!;
    await raw.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${local}\0${password}`).toString('base64')}</auth>`);
    await stream.waitSince(0, /<success/);
    const mark = raw.text.length;
    await raw.write(RawStream.header());
    const features = await stream.waitSince(mark, /<stream:stream[^>]* id="([^"]+)"[\s\S]*<\/stream:features>/);
    stream.streamId = features[1]!;
    return stream;
  }

  get text(): string {
    return this.raw.text;
  }

  /** Everything received since `offset` matching `pattern`, awaited (at most `timeoutMs`). */
  async waitSince(offset: number, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.raw.text.slice(offset));
      if (match) return match;
      if (Date.now() > deadline || this.raw.socket.destroyed) {
        throw new Error(`no ${pattern} in ${JSON.stringify(this.raw.text.slice(Math.max(offset, this.raw.text.length - 800)))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 50);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.raw.socket.once('data', done);
      });
    }
  }

  send(xml: string): Promise<void> {
    return this.raw.write(xml);
  }

  async bind(resource: string): Promise<string> {
    const mark = this.raw.text.length;
    await this.send(`<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    return (await this.waitSince(mark, /<jid>([^<]+)<\/jid>/))[1]!;
  }

  /** `<enable/>`; resolves with the `<enabled/>` attributes. */
  async enable(attrs = "resume='true'"): Promise<{ id: string; resume: string | undefined; max: string | undefined }> {
    const mark = this.raw.text.length;
    await this.send(`<enable xmlns='${SM}' ${attrs}/>`);
    const enabled = (await this.waitSince(mark, /<enabled [^>]*\/>/))[0];
    this.countFrom = mark + this.raw.text.slice(mark).indexOf(enabled) + enabled.length;
    this.countBase = 0;
    return { id: /id="([^"]+)"/.exec(enabled)![1]!, resume: /resume="([^"]+)"/.exec(enabled)?.[1], max: /max="([^"]+)"/.exec(enabled)?.[1] };
  }

  /** `<resume/>`: resolves with the server's `h` when resumed, or the `<failed/>` condition. */
  async resume(previd: string, h: number): Promise<{ resumed: true; h: number } | { resumed: false; condition: string }> {
    const mark = this.raw.text.length;
    await this.send(`<resume xmlns='${SM}' previd='${previd}' h='${h}'/>`);
    const answer = await this.waitSince(mark, /<resumed [^>]*\/>|<failed [^>]*>\s*<([a-z-]+)/);
    if (answer[0].startsWith('<failed')) return { resumed: false, condition: answer[1]! };
    const resumed = answer[0];
    this.countFrom = mark + this.raw.text.slice(mark).indexOf(resumed) + resumed.length;
    this.countBase = h;
    return { resumed: true, h: Number(/h="(\d+)"/.exec(resumed)![1]) };
  }

  /** Our `h`: stanzas received since SM was enabled (continuing the count a resumption claimed). */
  handled(): number {
    return this.countBase + (this.raw.text.slice(this.countFrom).match(STANZA)?.length ?? 0);
  }

  /** Sends `<r/>` and resolves with the server's `h`. */
  async requestAck(): Promise<number> {
    const mark = this.raw.text.length;
    await this.send(`<r xmlns='${SM}'/>`);
    return Number((await this.waitSince(mark, /<a xmlns="urn:xmpp:sm:3" h="(\d+)"\/>/))[1]);
  }

  /** Occurrences of `pattern` (global) in everything received since `offset`. */
  count(pattern: RegExp, offset = 0): number {
    return this.raw.text.slice(offset).match(pattern)?.length ?? 0;
  }

  /** The connection breaks without a stream close (the phone lost its network). */
  drop(): void {
    this.raw.destroy();
  }

  async close(): Promise<void> {
    await this.send('</stream:stream>');
    await Promise.race([this.raw.closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    this.raw.destroy();
  }
}
