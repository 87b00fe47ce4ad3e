import type { Logger } from '@hearth/runtime';
import type { GatewayConfig } from './config';
import type { XmppCore } from './xmpp-core';

/** The Nest injection token for what the HTTP side shares with the XMPP side. */
export const GATEWAY_RUNTIME = Symbol('GATEWAY_RUNTIME');

export interface GatewayRuntime {
  config: GatewayConfig;
  logger: Logger;
  core: XmppCore;
}
