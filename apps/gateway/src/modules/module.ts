import type { Logger } from '@hearth/runtime';
import type { AccountStore } from '../accounts/account-store';
import type { SaslMechanism } from '../auth/sasl-mechanism';
import type { GatewayConfig } from '../config';
import type { EventLog } from '../log/event-log';
import type { Router } from '../router/router';
import type { RosterService } from '../roster/roster.service';
import type { BackingServices } from '../services/backing-services';
import type { MessageDedupeStore } from './messaging/dedupe-store';
import type { SessionRegistry } from '../sessions/session-registry';

/** What a module gets: the router to register on, and the gateway's shared components. */
export interface ModuleContext {
  router: Router;
  sessions: SessionRegistry;
  accounts: AccountStore;
  roster: RosterService;
  mechanisms: readonly SaslMechanism[];
  config: GatewayConfig;
  logger: Logger;
  /** Append events (commands become facts) and hear live events from every gateway. */
  log: EventLog;
  /** gRPC clients of the archive, read-state, pubsub and push services, where configured. */
  services: BackingServices;
  /** Senders' message ids already accepted (idempotent sending across gateways and restarts). */
  messageDedupe: MessageDedupeStore;
  softwareVersion: string;
}

/**
 * A gateway module: one RFC or XEP section, set up once, registering its handlers, hooks, stream
 * features and disco features on the router (Prosody's `module:hook`, xmpp.js's plugins).
 */
export interface GatewayModule {
  readonly name: string;
  /** The specification section it implements. */
  readonly spec: string;
  setup(context: ModuleContext): void;
}
