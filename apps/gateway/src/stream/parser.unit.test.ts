import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Element } from '../xml/element';
import type { StreamError } from './errors';
import { ByteOffsets, StreamParser, type Framing } from './parser';

function parse(framing: Framing, ...chunks: (string | Buffer)[]) {
  const seen: { headers: Element[]; elements: Element[]; errors: StreamError[]; ended: boolean } = { headers: [], elements: [], errors: [], ended: false };
  const parser = new StreamParser(framing, { maxStanzaBytes: 1024, maxDepth: 5 }, {
    streamStart: (h) => seen.headers.push(h),
    element: (e) => seen.elements.push(e),
    streamEnd: () => (seen.ended = true),
    error: (e) => seen.errors.push(e),
  });
  for (const chunk of chunks) parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
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

  // The cap (1024 here, HEARTH_GATEWAY_MAX_STANZA_BYTES in the gateway) counts UTF-8 bytes, not
  // characters: `<message>` + n × "€" (3 bytes, 1 character) + `</message>` is 19 + 3n bytes.
  test('the stanza cap counts bytes: a multi-byte stanza just over it is refused, one at it is accepted', () => {
    const stanza = (n: number) => `<message>${'€'.repeat(n)}</message>`;
    assert.equal(Buffer.byteLength(stanza(335)), 1024);
    const atCap = parse('stream', HEADER, stanza(335));
    assert.deepEqual(atCap.errors, []);
    assert.equal(atCap.elements[0]!.text(), '€'.repeat(335));
    const overCap = parse('stream', HEADER, stanza(336));
    assert.deepEqual(overCap.errors.map((e) => e.condition), ['policy-violation']);
    assert.equal(overCap.elements.length, 0);
  });

  test('the byte cap holds for astral characters and characters split across chunks', () => {
    // ' ' + `<message>` + n × "😀" (4 bytes, 2 code units) + `</message>` is 20 + 4n bytes.
    const stanza = (n: number) => Buffer.from(` <message>${'😀'.repeat(n)}</message>`);
    const cut = (bytes: Buffer) => [bytes.subarray(0, 12), bytes.subarray(12)]; // inside the first "😀"
    const atCap = parse('stream', HEADER, ...cut(stanza(251)));
    assert.deepEqual(atCap.errors, []);
    assert.equal(atCap.elements[0]!.text(), '😀'.repeat(251));
    const overCap = parse('stream', HEADER, ...cut(stanza(252)));
    assert.deepEqual(overCap.errors.map((e) => e.condition), ['policy-violation']);
  });

  test('ByteOffsets maps code-unit positions to UTF-8 byte offsets slice by slice', () => {
    const offsets = new ByteOffsets();
    offsets.next('ab€');
    assert.equal(offsets.at(2), 2);
    assert.equal(offsets.at(3), 5);
    offsets.next('😀x\r');
    assert.equal(offsets.at(3), 5);
    assert.equal(offsets.at(5), 9);
    assert.equal(offsets.at(6), 10);
    offsets.next('é'); // a carried-over CR sits one unit (one byte) before the slice
    assert.equal(offsets.at(6), 10);
    assert.equal(offsets.at(8), 13);
  });
});
