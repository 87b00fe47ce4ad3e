import { Counter, Gauge, Histogram } from 'prom-client';
import type { Element } from '../xml/element';
import type { XmppCore } from '../xmpp-core';

/**
 * The gateway's Prometheus metrics, served on /metrics by @hearth/nest-service's
 * ObservabilityModule (default registry). Counters are process-wide: one gateway per process.
 */
const STANZAS = new Set(['message', 'presence', 'iq']);

const stanzas = new Counter({
  name: 'hearth_gateway_stanzas_total',
  help: 'Stanzas (message, presence, iq) read from clients (direction="in") and written to them (direction="out")',
  labelNames: ['direction', 'kind'] as const,
});

export const authFailures = new Counter({
  name: 'hearth_gateway_auth_failures_total',
  help: 'Failed SASL authentications, by SASL failure condition',
  labelNames: ['condition'] as const,
});

export const appends = new Counter({
  name: 'hearth_gateway_appends_total',
  help: 'Events appended to the log, by outcome (ok: acknowledged by every in-sync replica)',
  labelNames: ['outcome'] as const,
});

export const appendSeconds = new Histogram({
  name: 'hearth_gateway_append_duration_seconds',
  help: 'Time for one batched append to be acknowledged (acks=-1), from send to acknowledgement',
  labelNames: ['outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

/** Set from kafkajs's end-of-batch instrumentation event: no extra request to the broker. */
export const consumerLag = new Gauge({
  name: 'hearth_gateway_log_consumer_lag',
  help: 'Records between the live-event consumer\'s last batch and the end of the partition, as of that batch',
  labelNames: ['topic', 'partition'] as const,
});

/**
 * From the message's acceptance (before its dedupe claim and append) to its delivery to this
 * gateway's sessions: the server's share of end-to-end latency, append and live consumer included.
 */
export const deliveryLagSeconds = new Histogram({
  name: 'hearth_gateway_message_delivery_lag_seconds',
  help: 'Time from accepting a message (before its append) to writing it to a local session, for messages delivered by this gateway',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

/** Counts a top-level element read from or written to a client, when it is a stanza. */
export function countStanza(direction: 'in' | 'out', element: Pick<Element, 'name'>): void {
  if (STANZAS.has(element.name)) stanzas.inc({ direction, kind: element.name });
}

/** Gauges read from the core when scraped: open connections, bound sessions by transport. */
export function observeCore(core: XmppCore): void {
  new Gauge({
    name: 'hearth_gateway_connections',
    help: 'Open client connections (any stage: before or after authentication)',
    collect() {
      this.set(core.router.connections.size);
    },
  });
  new Gauge({
    name: 'hearth_gateway_sessions',
    help: 'Bound resources (sessions), by transport; hibernated XEP-0198 sessions count under their last transport',
    labelNames: ['transport'] as const,
    collect() {
      const counts = { tcp: 0, tls: 0, websocket: 0 };
      for (const session of core.sessions.all()) counts[session.connection.transport.kind]++;
      for (const [transport, n] of Object.entries(counts)) this.set({ transport }, n);
    },
  });
}
