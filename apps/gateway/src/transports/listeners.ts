import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContext } from 'node:tls';

/** The certificate and key, and the context built from them once (reused by every STARTTLS). */
export interface TlsMaterial {
  cert: string;
  key: string;
  context: SecureContext;
}
import { WebSocketServer } from 'ws';
import type { Logger } from '@hearth/runtime';
import type { Router } from '../router/router';
import { SocketTransport } from './socket-transport';
import { WebSocketTransport } from './websocket-transport';

/** RFC 7395 §3.1: the endpoint path and the sub-protocol a client must offer. */
export const WEBSOCKET_PATH = '/xmpp-websocket';
const XMPP_SUBPROTOCOL = 'xmpp';
/** TLS handshakes that take longer than this are dropped (slowloris on 5223 and after STARTTLS). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The client listeners: TCP with STARTTLS (5222), direct TLS (5223, XEP-0368), and the WebSocket
 * endpoint on the HTTP servers. All hand their transport to the same router.
 */
export class C2SListeners {
  private readonly servers: Server[] = [];
  private readonly webSockets: WebSocketServer;

  constructor(
    private readonly router: Router,
    private readonly tlsMaterial: TlsMaterial,
    private readonly logger: Logger,
    maxStanzaBytes: number,
  ) {
    this.webSockets = new WebSocketServer({
      noServer: true,
      maxPayload: maxStanzaBytes + 4096,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(XMPP_SUBPROTOCOL) ? XMPP_SUBPROTOCOL : false),
    });
  }

  async listenTcp(port: number, host: string): Promise<number> {
    const server = createNetServer((socket) => this.accept(new SocketTransport('tcp', socket, this.context)));
    return this.listen(server, port, host);
  }

  async listenTls(port: number, host: string): Promise<number> {
    const { cert, key } = this.tlsMaterial;
    const server = createTlsServer({ cert, key, minVersion: 'TLSv1.2', handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS },
      (socket) => this.accept(new SocketTransport('tls', socket, this.context)));
    server.on('tlsClientError', (error) => this.logger.debug({ err: error }, 'TLS client error'));
    return this.listen(server, port, host);
  }

  /** Serves XMPP over WebSocket on an HTTP(S) server; `secure` when it is HTTPS or behind a TLS proxy. */
  attachWebSocket(http: HttpServer, secure: boolean): void {
    http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const path = (request.url ?? '').split('?')[0];
      const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (path !== WEBSOCKET_PATH || !offered.includes(XMPP_SUBPROTOCOL)) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        return;
      }
      this.webSockets.handleUpgrade(request, socket, head, (ws) => this.accept(new WebSocketTransport(ws, socket, secure)));
    });
  }

  /** Stops accepting; existing streams are closed by the router. */
  async close(): Promise<void> {
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.webSockets.close();
  }

  private readonly context = (): SecureContext => this.tlsMaterial.context;

  private accept(transport: SocketTransport | WebSocketTransport): void {
    this.router.accept(transport);
  }

  private listen(server: Server, port: number, host: string): Promise<number> {
    this.servers.push(server);
    server.on('error', (error) => this.logger.error({ err: error }, 'listener error'));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => resolve((server.address() as AddressInfo).port));
    });
  }
}
