import { FailureLimiter } from '../auth/failure-limiter';
import { authFailures } from '../metrics/gateway-metrics';
import type { SaslExchange, SaslStep } from '../auth/sasl-mechanism';
import type { C2SConnection } from '../stream/c2s-connection';
import { SaslFailure, StreamError } from '../stream/errors';
import { xml } from '../xml/element';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';
import { requireTlsFirst } from './starttls.module';

const ATTEMPT = 'sasl.attempt';

/** One `<auth/>` in progress: the mechanism's exchange and the account it names, once known. */
interface Attempt {
  exchange: SaslExchange;
  account?: string;
}

/**
 * SASL negotiation (RFC 6120 §6): `<mechanisms/>`, `<auth/>`, challenges and responses,
 * `<abort/>`. Failed attempts count per stream (closed after the configured number, §6.4.5), per
 * remote address and per named account; an address or account over its limit is refused before
 * its credentials are looked at, with the same answer whether or not the account exists.
 */
export const saslModule: GatewayModule = {
  name: 'sasl',
  spec: 'https://www.rfc-editor.org/rfc/rfc6120#section-6',
  setup({ router, mechanisms, config, logger }) {
    const window = config.HEARTH_GATEWAY_AUTH_FAILURE_WINDOW_MS;
    const perAddress = new FailureLimiter(config.HEARTH_GATEWAY_AUTH_FAILURES_PER_IP, window);
    const perAccount = new FailureLimiter(config.HEARTH_GATEWAY_AUTH_FAILURES_PER_ACCOUNT, window);
    const offered = (connection: C2SConnection) => mechanisms.filter((m) => m.offered(connection.secure));

    router.streamFeature((connection) => {
      if (connection.stage !== 'negotiating' || connection.transport.canStartTls) return undefined;
      return xml('mechanisms', NS.sasl, {}, ...offered(connection).map((m) => xml('mechanism', NS.sasl, {}, m.name)));
    });

    const accountKey = (connection: C2SConnection, username: string) => `${username.toLowerCase()}@${connection.domain}`;
    const tooMany = () => new SaslFailure('temporary-auth-failure', 'too many failed attempts, try again later');

    async function run(connection: C2SConnection, attempt: Attempt, payload: string): Promise<void> {
      let outcome: SaslStep;
      try {
        if (perAddress.blocked(connection.remoteAddress)) throw tooMany();
        outcome = await attempt.exchange.step(decode(payload), (username) => {
          attempt.account = accountKey(connection, username);
          if (perAccount.blocked(attempt.account)) throw tooMany();
        });
      } catch (error) {
        if (!(error instanceof SaslFailure)) throw error;
        connection.state.delete(ATTEMPT);
        return fail(connection, attempt, error);
      }
      if (outcome.kind === 'challenge') {
        connection.send(xml('challenge', NS.sasl, {}, outcome.data.toString('base64')));
        return;
      }
      connection.state.delete(ATTEMPT);
      connection.account = outcome.jid;
      connection.stage = 'authenticated';
      connection.send(xml('success', NS.sasl, {}, outcome.data ? outcome.data.toString('base64') : undefined));
      logger.debug({ jid: outcome.jid.toString(), stream: connection.id }, 'authenticated');
      connection.restartStream();
    }

    function fail(connection: C2SConnection, attempt: Attempt | undefined, failure: SaslFailure): void {
      if (failure.condition !== 'temporary-auth-failure' && failure.condition !== 'aborted') {
        perAddress.fail(connection.remoteAddress);
        if (attempt?.account) perAccount.fail(attempt.account);
      }
      connection.send(failure.toElement());
      authFailures.inc({ condition: failure.condition });
      logger.info({ remote: connection.remoteAddress, condition: failure.condition, reason: failure.text }, 'authentication failed');
      connection.authFailures += 1;
      if (connection.authFailures >= config.HEARTH_GATEWAY_AUTH_ATTEMPTS_PER_STREAM) {
        connection.close(new StreamError('policy-violation', 'too many failed authentication attempts'));
      }
    }

    router.negotiation('negotiating', NS.sasl, 'auth', async (connection, element) => {
      requireTlsFirst(connection);
      const mechanism = offered(connection).find((m) => m.name === element.attr('mechanism'));
      if (!mechanism) return fail(connection, undefined, new SaslFailure('invalid-mechanism'));
      const attempt: Attempt = { exchange: mechanism.start(connection.domain!) };
      connection.state.set(ATTEMPT, attempt);
      // RFC 6120 §6.4.2: no initial response → an empty challenge asks for it.
      if (element.text().trim() === '') return connection.send(xml('challenge', NS.sasl));
      await run(connection, attempt, element.text());
    });

    router.negotiation('negotiating', NS.sasl, 'response', async (connection, element) => {
      requireTlsFirst(connection);
      const attempt = connection.state.get(ATTEMPT) as Attempt | undefined;
      if (!attempt) return fail(connection, undefined, new SaslFailure('malformed-request', 'no exchange in progress'));
      await run(connection, attempt, element.text());
    });

    router.negotiation('negotiating', NS.sasl, 'abort', (connection) => {
      const attempt = connection.state.get(ATTEMPT) as Attempt | undefined;
      connection.state.delete(ATTEMPT);
      fail(connection, attempt, new SaslFailure('aborted'));
    });
  },
};

/** RFC 6120 §6.4.2: base64 payload, "=" for an empty one. */
function decode(payload: string): Buffer {
  const text = payload.trim();
  if (text === '=' || text === '') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw new SaslFailure('incorrect-encoding');
  return Buffer.from(text, 'base64');
}
