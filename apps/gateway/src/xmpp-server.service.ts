import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Server as HttpServer } from 'node:http';
import { GATEWAY_RUNTIME, type GatewayRuntime } from './gateway-runtime';
import { C2SListeners, type TlsMaterial } from './transports/listeners';

export const TLS_MATERIAL = Symbol('TLS_MATERIAL');

/**
 * Starts the XMPP listeners with the Nest application and stops them first on shutdown: stop
 * accepting, close every stream with `system-shutdown`, wait (bounded) for clients to go.
 */
@Injectable()
export class XmppServerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly ports = { c2s: 0, c2sTls: 0 };
  private readonly listeners: C2SListeners;

  constructor(
    @Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime,
    @Inject(TLS_MATERIAL) tls: TlsMaterial,
  ) {
    this.listeners = new C2SListeners(runtime.core.router, tls, runtime.logger, runtime.config.HEARTH_GATEWAY_MAX_STANZA_BYTES);
  }

  attachWebSocket(http: HttpServer, secure: boolean): void {
    this.listeners.attachWebSocket(http, secure);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this.runtime;
    const host = config.HEARTH_GATEWAY_BIND_HOST;
    this.ports.c2s = await this.listeners.listenTcp(config.HEARTH_GATEWAY_C2S_PORT, host);
    this.ports.c2sTls = await this.listeners.listenTls(config.HEARTH_GATEWAY_C2S_TLS_PORT, host);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const { router } = this.runtime.core;
    const closed = this.listeners.close();
    router.shutdown();
    const deadline = Date.now() + this.runtime.config.HEARTH_GATEWAY_SHUTDOWN_GRACE_MS;
    while (router.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const connection of router.connections) connection.transport.destroy();
    await closed;
    await router.shutdownModules();
  }
}
