import { StreamError } from '../stream/errors';
import { xml } from '../xml/element';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

/**
 * STARTTLS, mandatory on port 5222: it is the only feature offered before TLS, and anything else
 * before it is a policy violation (RFC 6120 §5.3.1, §5.4.2.1).
 */
export const starttlsModule: GatewayModule = {
  name: 'starttls',
  spec: 'https://www.rfc-editor.org/rfc/rfc6120#section-5',
  setup({ router, logger }) {
    router.streamFeature((connection) =>
      connection.stage === 'negotiating' && connection.transport.canStartTls ? xml('starttls', NS.tls, {}, xml('required', NS.tls)) : undefined);

    router.negotiation('negotiating', NS.tls, 'starttls', async (connection) => {
      if (!connection.transport.canStartTls) {
        // RFC 6120 §5.4.2.2: <failure/>, then the stream closes.
        connection.send(xml('failure', NS.tls));
        return connection.close();
      }
      connection.send(xml('proceed', NS.tls));
      try {
        await connection.startTls();
      } catch (error) {
        logger.info({ err: error, remote: connection.remoteAddress }, 'TLS handshake failed');
        connection.transport.destroy();
      }
    });
  },
};

/** Guards every negotiation step but STARTTLS itself while TLS is still required. */
export function requireTlsFirst(connection: { transport: { canStartTls: boolean } }): void {
  if (connection.transport.canStartTls) throw new StreamError('policy-violation', 'STARTTLS is required first');
}
