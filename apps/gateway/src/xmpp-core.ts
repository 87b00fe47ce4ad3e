import { randomBytes } from 'node:crypto';
import type { Logger } from '@hearth/runtime';
import { AccountService } from './accounts/account.service';
import type { AccountStore } from './accounts/account-store';
import { PlainMechanism } from './auth/mechanisms/plain.mechanism';
import { ScramMechanism } from './auth/mechanisms/scram.mechanism';
import { parseOauthBearer, parseXOauth2, TokenMechanism } from './auth/mechanisms/token.mechanism';
import type { SaslMechanism } from './auth/sasl-mechanism';
import { decoyCredential } from './auth/scram';
import { TokenVerifier } from './auth/token-verifier';
import type { GatewayConfig } from './config';
import type { EventLog } from './log/event-log';
import { accountEventsModule } from './modules/account-events.module';
import { bindModule } from './modules/bind.module';
import { discoModule } from './modules/disco.module';
import { messagingModule } from './modules/messaging/messaging.module';
import type { MessageDedupeStore } from './modules/messaging/dedupe-store';
import type { GatewayModule } from './modules/module';
import { pingModule } from './modules/ping.module';
import { presenceModule } from './modules/presence.module';
import { pubsubModule } from './modules/pubsub/pubsub.module';
import { mamModule } from './modules/mam/mam.module';
import { pushModule } from './modules/push/push.module';
import { rosterModule } from './modules/roster.module';
import { saslModule } from './modules/sasl.module';
import { sessionModule } from './modules/session.module';
import { readMarkersModule } from './modules/read-markers/read-markers.module';
import { starttlsModule } from './modules/starttls.module';
import { streamManagementModule } from './modules/stream-management/stream-management.module';
import { versionModule } from './modules/version.module';
import { Router } from './router/router';
import { RosterService } from './roster/roster.service';
import type { BackingServices } from './services/backing-services';
import type { RosterStore } from './roster/roster-store';
import { SessionRegistry } from './sessions/session-registry';
import type { Jid } from './xml/jid';

/** Modules in stream-feature order: STARTTLS, SASL, bind, session, then stanza-level modules. */
export const MODULES: readonly GatewayModule[] = [
  starttlsModule, saslModule, bindModule, sessionModule, streamManagementModule, discoModule, pingModule, versionModule, rosterModule, pubsubModule, readMarkersModule, presenceModule, messagingModule, pushModule, mamModule, accountEventsModule,
];

export interface XmppCore {
  router: Router;
  sessions: SessionRegistry;
  accounts: AccountService;
  roster: RosterService;
  tokenVerifier: TokenVerifier | null;
}

/** Wires the XMPP side together in one explicit place (as xmpp.js's client factory does). */
export interface XmppCoreDependencies {
  stores: { accounts: AccountStore; rosters: RosterStore; messageDedupe: MessageDedupeStore };
  log: EventLog;
  services: BackingServices;
  softwareVersion: string;
  /** An account command recorded its event in the outbox (the relay publishes it at once). */
  accountEventRecorded?: () => void;
}

export function createXmppCore(config: GatewayConfig, logger: Logger, { stores, log, services, softwareVersion, accountEventRecorded }: XmppCoreDependencies): XmppCore {
  const domains = new Set(config.HEARTH_DOMAINS.map((d) => d.toLowerCase()));
  const sessions = new SessionRegistry();
  const router = new Router(logger, {
    maxStanzaBytes: config.HEARTH_GATEWAY_MAX_STANZA_BYTES,
    maxDepth: config.HEARTH_GATEWAY_MAX_DEPTH,
    readRateBytesPerSec: config.HEARTH_GATEWAY_READ_RATE_BYTES_PER_SEC,
    readBurstBytes: config.HEARTH_GATEWAY_READ_BURST_BYTES,
    maxOutboundBytes: config.HEARTH_GATEWAY_MAX_OUTBOUND_BYTES,
  }, {
    authTimeoutMs: config.HEARTH_GATEWAY_AUTH_TIMEOUT_MS,
    pingAfterMs: config.HEARTH_GATEWAY_PING_AFTER_MS,
    pingTimeoutMs: config.HEARTH_GATEWAY_PING_TIMEOUT_MS,
  }, domains, sessions, stores.accounts);
  const roster = new RosterService(stores.rosters, sessions, logger);
  const accounts = new AccountService(stores.accounts, router, roster, domains, config.HEARTH_SCRAM_ITERATIONS, logger, accountEventRecorded);

  const decoySecret = randomBytes(32);
  const iterations = config.HEARTH_SCRAM_ITERATIONS;
  const mechanisms: SaslMechanism[] = [
    new ScramMechanism('sha256', stores.accounts, decoySecret, iterations),
    new ScramMechanism('sha1', stores.accounts, decoySecret, iterations),
    new PlainMechanism(stores.accounts, (jid) => decoyCredential('sha256', decoySecret, jid, iterations)),
  ];
  const tokenVerifier = TokenVerifier.fromOptions({
    secret: config.HEARTH_JWT_SECRET,
    publicKeyFile: config.HEARTH_JWT_PUBLIC_KEY_FILE,
    jwksFile: config.HEARTH_JWT_JWKS_FILE,
    issuer: config.HEARTH_JWT_ISSUER,
    audience: config.HEARTH_JWT_AUDIENCE,
  });
  if (tokenVerifier) {
    const onUnknown = async (jid: Jid) => config.HEARTH_JWT_AUTO_CREATE_ACCOUNTS && accounts.createForToken(jid);
    const onRejected = (reason: string) => logger.info({ reason }, 'token refused');
    mechanisms.push(
      new TokenMechanism('OAUTHBEARER', parseOauthBearer, tokenVerifier, stores.accounts, onUnknown, onRejected),
      new TokenMechanism('X-OAUTH2', parseXOauth2, tokenVerifier, stores.accounts, onUnknown, onRejected),
    );
  }

  const context = { router, sessions, accounts: stores.accounts, roster, mechanisms, config, logger, softwareVersion, log, services, messageDedupe: stores.messageDedupe };
  for (const module of MODULES) module.setup(context);
  return { router, sessions, accounts, roster, tokenVerifier };
}
