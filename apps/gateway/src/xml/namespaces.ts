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
  discoInfo: 'http://jabber.org/protocol/disco#info', // XEP-0030
  discoItems: 'http://jabber.org/protocol/disco#items',
  ping: 'urn:xmpp:ping', // XEP-0199
  version: 'jabber:iq:version', // XEP-0092
  googleAuth: 'http://www.google.com/talk/protocol/auth', // X-OAUTH2 attribute namespace
} as const;
