import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StanzaError } from '../../stream/errors';
import type { SubmittedForm } from '../../xml/data-form';
import { xml } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import { checkPublishOptions, MDS_NODE, PUBLISH_OPTIONS_FORM, PubsubError, readDisplayed, STANZA_ID_NS, unreadElement } from './read-markers.xml';

function form(fields: Record<string, string>): SubmittedForm {
  const values = new Map(Object.entries({ FORM_TYPE: PUBLISH_OPTIONS_FORM, ...fields }).map(([k, v]) => [k, [v]]));
  return { formType: values.get('FORM_TYPE')?.[0], values, get: (f) => values.get(f)?.[0] };
}

test('XEP-0490 §4.2 publish-options are met by the MDS node; another access model is a precondition not met', () => {
  assert.doesNotThrow(() => checkPublishOptions(undefined));
  assert.doesNotThrow(() => checkPublishOptions(form({
    'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist', 'pubsub#notify_retract': '0',
  })));
  assert.throws(() => checkPublishOptions(form({ 'pubsub#access_model': 'presence' })),
    (e: unknown) => e instanceof PubsubError && e.condition === 'conflict' && e.pubsubCondition === 'precondition-not-met');
  assert.throws(() => checkPublishOptions({ ...form({}), formType: 'urn:other' }), (e: unknown) => e instanceof StanzaError && e.condition === 'bad-request');
});

test('a PubsubError reply carries the pubsub#errors condition beside the stanza error condition', () => {
  const reply = new PubsubError('conflict', 'precondition-not-met').replyTo(xml('iq', NS.client, { type: 'set', id: 'p1', from: 'bob@localhost/web' }), 'bob@localhost');
  const error = reply.child('error', NS.client)!;
  assert.ok(error.child('conflict', NS.stanzas));
  assert.ok(error.child('precondition-not-met', NS.pubsubErrors));
});

test('displayed carries exactly one stanza-id with id and by', () => {
  const sid = (attrs: Record<string, string>) => xml('stanza-id', STANZA_ID_NS, attrs);
  assert.deepEqual(readDisplayed(xml('displayed', MDS_NODE, {}, sid({ by: 'bob@localhost', id: 'X' }))), { stanzaId: 'X', by: 'bob@localhost' });
  assert.throws(() => readDisplayed(xml('displayed', MDS_NODE)), StanzaError);
  assert.throws(() => readDisplayed(xml('displayed', MDS_NODE, {}, sid({ by: 'a@b', id: 'X' }), sid({ by: 'a@b', id: 'Y' }))), StanzaError);
  assert.throws(() => readDisplayed(xml('displayed', MDS_NODE, {}, sid({ id: 'X' }))), StanzaError);
});

test('the urn:hearth:unread:0 element lists each chat with its count and pointer', () => {
  assert.equal(unreadElement(3, [{ peer: 'alice@localhost', unread: 2, pointer: 'S1' }, { peer: 'carol@localhost', unread: 1 }]).toString(),
    '<unread xmlns="urn:hearth:unread:0" total="3"><chat jid="alice@localhost" count="2" displayed="S1"/><chat jid="carol@localhost" count="1"/></unread>');
});
