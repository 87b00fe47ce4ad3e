import assert from 'node:assert/strict';
import { test } from 'node:test';
import { xml } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import { LoggedStanza, StanzaReader } from './stanza-reader';

// As message acceptance writes it into MessageAccepted: serialised with no namespace in scope.
const stanza = xml('message', NS.client, { from: 'alice@localhost/phone', to: 'bob@localhost', type: 'chat', id: 'm1' },
  xml('body', NS.client, {}, 'fish & "chips" <3'),
  xml('stanza-id', NS.sid, { by: 'bob@localhost', id: '0190f2c4-1c1e-7c4e-9d6a-3b1f0e2a4c55' }));
const logged = () => new LoggedStanza('message', stanza.toString(''), new StanzaReader());

test('a logged stanza is written exactly as its parsed element would be, in a TCP stream and in a WebSocket', () => {
  const parsed = logged().element();
  assert.equal(logged().text(NS.client), parsed.toString(NS.client));
  assert.equal(logged().text(''), parsed.toString(''));
  assert.equal(parsed.childText('body'), 'fish & "chips" <3');
});

test('a stanza in another namespace is not written as text but serialised from its element', () => {
  const other = new LoggedStanza('message', xml('message', 'urn:example:other', { to: 'bob@localhost' }).toString(''), new StanzaReader());
  assert.equal(other.text(NS.client), undefined);
  assert.equal(other.element().ns, 'urn:example:other');
});
