/** XML namespaces used by the gateway, named after the specification that defines them. */
export const NS = {
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  framing: 'urn:ietf:params:xml:ns:xmpp-framing', // RFC 7395 §3.3
  streams: 'urn:ietf:params:xml:ns:xmpp-streams', // RFC 6120 §4.9.3
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas', // RFC 6120 §8.3.3
  tls: 'urn:ietf:params:xml:ns:xmpp-tls', // RFC 6120 §5.4
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl', // RFC 6120 §6.4
  bind: 'urn:ietf:params:xml:ns:xmpp-bind', // RFC 6120 §7
  session: 'urn:ietf:params:xml:ns:xmpp-session', // RFC 3921 §3, kept as optional (draft-cridland-xmpp-session)
  roster: 'jabber:iq:roster', // RFC 6121 §2
  rosterVersioning: 'urn:xmpp:features:rosterver', // RFC 6121 §2.6.1
  discoInfo: 'http://jabber.org/protocol/disco#info', // XEP-0030
  discoItems: 'http://jabber.org/protocol/disco#items',
  ping: 'urn:xmpp:ping', // XEP-0199
  sm: 'urn:xmpp:sm:3', // XEP-0198
  version: 'jabber:iq:version', // XEP-0092
  googleAuth: 'http://www.google.com/talk/protocol/auth', // X-OAUTH2 attribute namespace
  pubsub: 'http://jabber.org/protocol/pubsub', // XEP-0060 §4.6 (and its #owner, #event, #errors below)
  pubsubOwner: 'http://jabber.org/protocol/pubsub#owner',
  pubsubEvent: 'http://jabber.org/protocol/pubsub#event',
  pubsubErrors: 'http://jabber.org/protocol/pubsub#errors',
  shim: 'http://jabber.org/protocol/shim', // XEP-0131 stanza headers (pubsub SubID, XEP-0060 §12.20)
  delay: 'urn:xmpp:delay', // XEP-0203
  rsm: 'http://jabber.org/protocol/rsm', // XEP-0059
  mam: 'urn:xmpp:mam:2', // XEP-0313
  mamExtended: 'urn:xmpp:mam:2#extended', // XEP-0313 §7: before-id, after-id, ids, flip-page, metadata
  forward: 'urn:xmpp:forward:0', // XEP-0297
  xdataValidate: 'http://jabber.org/protocol/xdata-validate', // XEP-0122
  sid: 'urn:xmpp:sid:0', // XEP-0359 stanza-id and origin-id
  carbons: 'urn:xmpp:carbons:2', // XEP-0280
  hints: 'urn:xmpp:hints', // XEP-0334 (no-copy, no-store …)
  receipts: 'urn:xmpp:receipts', // XEP-0184
  chatStates: 'http://jabber.org/protocol/chatstates', // XEP-0085
  chatMarkers: 'urn:xmpp:chat-markers:0', // XEP-0333
} as const;
