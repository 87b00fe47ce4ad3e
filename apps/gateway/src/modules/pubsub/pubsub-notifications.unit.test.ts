import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { xml } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import { PubsubStanzaError } from './pubsub-calls';
import { eventMessage, itemElement, parsePayload } from './pubsub-notifications';

describe('pubsub notifications (XEP-0060 §7.1.2, §12.20)', () => {
  test('a stored payload comes back as the same element, namespaces and text intact', () => {
    const payload = parsePayload(`<joined xmlns='urn:example:meal' who='bob'><note>a &amp; b</note></joined>`)!;
    assert.equal(payload.ns, 'urn:example:meal');
    assert.equal(payload.child('note', 'urn:example:meal')?.text(), 'a & b');
    assert.equal(parsePayload(''), undefined, 'a notification-only item has no payload');
    assert.throws(() => parsePayload('<a xmlns="x">'), /not one XML element/);
  });

  test('one message per recipient: SubID headers only when given, the payload only when delivered', () => {
    const item = { id: 'i1', payload: `<n xmlns='urn:x'/>`, publisher: 'alice@localhost/phone' };
    const message = eventMessage({
      service: 'pubsub.localhost', to: 'bob@localhost', id: 'e1', subids: ['s1', 's2'],
      content: xml('items', NS.pubsubEvent, { node: '/n' }, itemElement(NS.pubsubEvent, item, false)),
    });
    assert.equal(message.toString(NS.client),
      '<message from="pubsub.localhost" to="bob@localhost" type="headline" id="e1"><event xmlns="http://jabber.org/protocol/pubsub#event">' +
      '<items node="/n"><item id="i1" publisher="alice@localhost"/></items></event><headers xmlns="http://jabber.org/protocol/shim">' +
      '<header name="SubID">s1</header><header name="SubID">s2</header></headers></message>');
  });

  test('a refusal carries the pubsub#errors condition after the defined condition and text (RFC 6120 §8.3.2)', () => {
    const error = new PubsubStanzaError('not-acceptable', 'no subscription x', 'modify', 'invalid-subid');
    const reply = error.replyTo(xml('iq', NS.client, { type: 'set', id: '1', from: 'bob@localhost/web', to: 'pubsub.localhost' }), 'pubsub.localhost');
    assert.equal(reply.toString(NS.client),
      '<iq type="error" id="1" from="pubsub.localhost" to="bob@localhost/web"><error type="modify">' +
      '<not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">no subscription x</text>' +
      '<invalid-subid xmlns="http://jabber.org/protocol/pubsub#errors"/></error></iq>');
  });
});
