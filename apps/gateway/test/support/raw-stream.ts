import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A hand-driven XMPP connection for hostile input: writes raw bytes, waits for raw patterns. */
export class RawStream {
  text = '';
  readonly closed: Promise<void>;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined); // the server cutting us off is what several tests expect
    this.closed = new Promise((resolve) => socket.once('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
      resolve();
    }));
  }

  static async open(port: number, secure = false): Promise<RawStream> {
    const socket = secure ? tlsConnect({ port, host: '127.0.0.1', servername: 'localhost' }) : netConnect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawStream(socket);
  }

  static header(to = 'localhost', extra = ''): string {
    return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${to}' version='1.0'${extra}>`;
  }

  write(data: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /** Resolves with the match once the received text matches; rejects after the timeout. */
  async waitFor(pattern: RegExp, timeoutMs = 5_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.text);
      if (match) return match;
      if (Date.now() > deadline || this.socket.destroyed) throw new Error(`no ${pattern} in ${JSON.stringify(this.text.slice(-500))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** The stream error condition the server closed with. */
  async streamError(timeoutMs = 5_000): Promise<string> {
    const match = await this.waitFor(/<stream:error[^>]*><([a-z-]+) xmlns="urn:ietf:params:xml:ns:xmpp-streams"/, timeoutMs);
    return match[1]!;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
