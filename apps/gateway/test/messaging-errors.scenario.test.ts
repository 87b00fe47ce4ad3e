import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { xml, type TestXmppClient, type XmppElement } from '@hearth/testing';
import { startStack, type Stack } from './support/stack';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const errorReply = (id: string) => (s: XmppElement) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === id;
const conditionOf = (s: XmppElement) => s.getChild('error')!.getChildElements().find((c) => c.attrs.xmlns === STANZAS)?.name;

describe('messages the server refuses (issue #5 errors, RFC 6121 §8.5)', () => {
  let stack: Stack;
  const clients: TestXmppClient[] = [];
  const online = async (jid: string, resource: string) => {
    const client = await stack.connect(jid, { resource });
    clients.push(client);
    await client.send(xml('presence'));
    return client;
  };

  before(async () => {
    stack = await startStack({
      users: ['alice@localhost', 'bob@localhost', 'carol@localhost'],
      gatewayEnv: { HEARTH_GATEWAY_MESSAGE_RATE_PER_SEC: '1', HEARTH_GATEWAY_MESSAGE_BURST: '3', HEARTH_GATEWAY_APPEND_TIMEOUT_MS: '2000' },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await stack?.stop();
  });

  test('alice writes to nobody, to a room, to the server and to another server: each is refused as RFC 6121 says', async () => {
    const alice = await online('alice@localhost', 'errors');
    const cases: Array<[string, XmppElement, string, string]> = [
      ['nobody', xml('message', { to: 'nobody@localhost', type: 'chat', id: 'e1' }, xml('body', {}, 'anyone?')), 'service-unavailable', 'cancel'],
      ['a groupchat', xml('message', { to: 'bob@localhost', type: 'groupchat', id: 'e2' }, xml('body', {}, 'room?')), 'service-unavailable', 'cancel'],
      ['the server', xml('message', { to: 'localhost', type: 'chat', id: 'e3' }, xml('body', {}, 'server?')), 'service-unavailable', 'cancel'],
      ['another server', xml('message', { to: 'someone@example.org', type: 'chat', id: 'e4' }, xml('body', {}, 'far away?')), 'remote-server-not-found', 'cancel'],
    ];
    for (const [, stanza] of cases) await alice.send(stanza);
    for (const [what, stanza, condition, type] of cases) {
      const reply = await alice.waitFor(errorReply(stanza.attrs.id!), `the error for ${what}`);
      assert.equal(conditionOf(reply), condition, what);
      assert.equal(reply.getChild('error')!.attrs.type, type, what);
    }
  });

  test('bob sends faster than 1/s after a burst of 3: the 4th is refused with policy-violation, the first 3 arrive', async () => {
    const bob = await online('bob@localhost', 'fast');
    const carol = await online('carol@localhost', 'reader');
    for (let i = 1; i <= 4; i++) await bob.send(xml('message', { to: 'carol@localhost', type: 'chat', id: `fast-${i}` }, xml('body', {}, `fast ${i}`)));
    const refused = await bob.waitFor(errorReply('fast-4'), 'the policy-violation');
    assert.equal(conditionOf(refused), 'policy-violation');
    assert.equal(refused.getChild('error')!.attrs.type, 'modify');
    await carol.waitFor((s) => s.getChildText('body') === 'fast 3', 'the third message');
    assert.equal(bob.received.filter((s) => s.attrs.type === 'error').length, 1);
  });

  // Last: it kills the stack's broker.
  test('the broker dies: carol\'s message is answered with a wait error (resource-constraint), not silence', async () => {
    const carol = await online('carol@localhost', 'writer');
    await stack.broker.kill();
    await carol.send(xml('message', { to: 'alice@localhost', type: 'chat', id: 'lost' }, xml('body', {}, 'is anyone there?')));
    const reply = await carol.waitFor(errorReply('lost'), 'the wait error', 15_000);
    assert.equal(conditionOf(reply), 'resource-constraint');
    assert.equal(reply.getChild('error')!.attrs.type, 'wait');
  });
});
