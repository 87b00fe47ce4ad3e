import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Element } from '../xml/element';
import type { StreamError } from './errors';
import { StreamParser, type Framing } from './parser';

function parse(framing: Framing, ...chunks: string[]) {
  const seen: { headers: Element[]; elements: Element[]; errors: StreamError[]; ended: boolean } = { headers: [], elements: [], errors: [], ended: false };
  const parser = new StreamParser(framing, { maxStanzaBytes: 1024, maxDepth: 5 }, {
    streamStart: (h) => seen.headers.push(h),
    element: (e) => seen.elements.push(e),
    streamEnd: () => (seen.ended = true),
    error: (e) => seen.errors.push(e),
  });
  for (const chunk of chunks) parser.write(Buffer.from(chunk));
  return seen;
}

const HEADER = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`;

describe('StreamParser', () => {
  test('a stanza split across chunks arrives whole, in the content namespace', () => {
    const seen = parse('stream', HEADER, "<message to='bob@localhost'><bo", 'dy>hi &amp; bye</body></message>', '</stream:stream>');
    assert.equal(seen.headers[0]!.attr('xmlns'), 'jabber:client');
    assert.equal(seen.elements[0]!.ns, 'jabber:client');
    assert.equal(seen.elements[0]!.childText('body'), 'hi & bye');
    assert.equal(seen.ended, true);
  });

  test('WebSocket framing: open, stanzas and close are separate messages (RFC 7395)', () => {
    const seen = parse('framed', `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`,
      `<iq xmlns='jabber:client' type='get' id='1'/>`, `<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`);
    assert.equal(seen.headers[0]!.attr('to'), 'localhost');
    assert.equal(seen.elements[0]!.name, 'iq');
    assert.equal(seen.ended, true);
  });

  test('one error per problem, and nothing after it', () => {
    for (const [input, condition] of [
      ['<!DOCTYPE x [<!ENTITY a "b">]>', 'restricted-xml'],
      [`${HEADER}<message>&a;</message>`, 'not-well-formed'],
      [`${HEADER}<message>${'x'.repeat(2000)}</message>`, 'policy-violation'],
      [`${HEADER}<a><b><c><d><e><f/></e></d></c></b></a>`, 'policy-violation'],
      [`${HEADER}stray text<message/>`, 'bad-format'],
    ] as const) {
      const seen = parse('stream', input, '<message/>');
      assert.deepEqual(seen.errors.map((e) => e.condition), [condition], input);
      assert.equal(seen.elements.length, 0);
    }
  });
});
