import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StanzaError } from '../../stream/errors';
import { DATA_FORMS_NS } from '../../xml/data-form';
import { xml, type Element } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import { parseArchivedStanza } from './archived-stanza';
import { readPreferences, readQuery } from './mam-request';
import { fin, queryFieldsForm } from './mam-response';

const field = (name: string, ...values: string[]) => xml('field', DATA_FORMS_NS, { var: name }, ...values.map((v) => xml('value', DATA_FORMS_NS, {}, v)));
const form = (...fields: Element[]) => xml('x', DATA_FORMS_NS, { type: 'submit' }, field('FORM_TYPE', NS.mam), ...fields);
const rsm = (...children: Element[]) => xml('set', NS.rsm, {}, ...children);
const refusedWith = (condition: string) => (error: unknown) => error instanceof StanzaError && error.condition === condition;

test('a query with every form field, RSM and flip-page maps onto the archive request', () => {
  const query = xml('query', NS.mam, { queryid: 'q1' },
    form(field('with', 'Alice@localhost/phone'), field('start', '2026-01-01T00:00:00Z'), field('end', '2026-01-02T00:00:00Z'),
      field('before-id', 'b'), field('after-id', 'a'), field('ids', 'x', 'y')),
    rsm(xml('max', NS.rsm, {}, '50'), xml('after', NS.rsm, {}, 'id-7')),
    xml('flip-page', NS.mam));
  assert.deepEqual(readQuery(query), {
    with: 'alice@localhost/phone', start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z', before_id: 'b', after_id: 'a', ids: ['x', 'y'],
    rsm: { max: 50, has_max: true, after: 'id-7', before: '', has_before: false, index: 0, has_index: false },
    flip_page: true,
  });
});

test('an empty <before/> asks for the last page; no <set/> leaves RSM to the server', () => {
  assert.deepEqual(readQuery(xml('query', NS.mam, {}, rsm(xml('before', NS.rsm)))).rsm,
    { max: 0, has_max: false, after: '', before: '', has_before: true, index: 0, has_index: false });
  assert.equal(readQuery(xml('query', NS.mam)).rsm, null);
});

test('a wrong FORM_TYPE is bad-request, an unknown field feature-not-implemented, a bad max bad-request', () => {
  const wrongType = xml('query', NS.mam, {}, xml('x', DATA_FORMS_NS, { type: 'submit' }, field('FORM_TYPE', 'urn:example')));
  assert.throws(() => readQuery(wrongType), refusedWith('bad-request'));
  assert.throws(() => readQuery(xml('query', NS.mam, {}, form(field('include-groupchat', 'true')))), refusedWith('feature-not-implemented'));
  assert.throws(() => readQuery(xml('query', NS.mam, {}, rsm(xml('max', NS.rsm, {}, '-1')))), refusedWith('bad-request'));
  assert.throws(() => readQuery(xml('query', NS.mam, {}, form(field('with', '@')))), refusedWith('jid-malformed'));
});

test('preferences: default and both lists; an unknown default is bad-request', () => {
  const prefs = xml('prefs', NS.mam, { default: 'roster' },
    xml('always', NS.mam, {}, xml('jid', NS.mam, {}, 'carol@localhost')), xml('never', NS.mam, {}, xml('jid', NS.mam, {}, 'spam@example.org')));
  assert.deepEqual(readPreferences(prefs), { default: 'roster', always: ['carol@localhost'], never: ['spam@example.org'] });
  assert.throws(() => readPreferences(xml('prefs', NS.mam, { default: 'sometimes' })), refusedWith('bad-request'));
});

test('<fin/> carries first with its index, last and count, and complete only when the archive says so', () => {
  const page = { messages: [], first: 'a', last: 'b', count: '7', first_index: '0', has_first_index: true, complete: true };
  assert.equal(fin(page).toString(),
    `<fin xmlns="${NS.mam}" complete="true"><set xmlns="${NS.rsm}"><first index="0">a</first><last>b</last><count>7</count></set></fin>`);
  assert.equal(fin({ ...page, first: '', last: '', has_first_index: false, complete: false }).toString(),
    `<fin xmlns="${NS.mam}"><set xmlns="${NS.rsm}"><count>7</count></set></fin>`);
});

test('the fields form lists the six fields, ids open to any value', () => {
  const text = queryFieldsForm().toString();
  for (const name of ['with', 'start', 'end', 'before-id', 'after-id', 'ids']) assert.match(text, new RegExp(`var="${name}"`));
  assert.match(text, /<validate xmlns="http:\/\/jabber.org\/protocol\/xdata-validate" datatype="xs:string"><open\/><\/validate>/);
});

test('an archived stanza parses back into the message; anything else is refused', () => {
  const limits = { maxStanzaBytes: 4096, maxDepth: 8 };
  const message = parseArchivedStanza(`<message xmlns='jabber:client' from='a@localhost/x' type='chat'><body>hi &amp; bye</body></message>`, limits);
  assert.equal(message?.ns, NS.client);
  assert.equal(message?.childText('body', NS.client), 'hi & bye');
  assert.equal(parseArchivedStanza('<message><body>', limits), undefined);
  assert.equal(parseArchivedStanza(`<iq xmlns='jabber:client'/>`, limits), undefined);
  assert.equal(parseArchivedStanza(`<message xmlns='jabber:client'/><message xmlns='jabber:client'/>`, limits), undefined);
});
