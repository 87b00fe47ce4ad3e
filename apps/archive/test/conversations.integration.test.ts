/**
 * Conversations over HTTP (web clients, the product backend), and the archive's deletions as
 * events: retention and account deletion.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { ArchiveRetentionApplied, createEvent } from '@hearth/contracts';
import { accountDeleted, ADMIN_TOKEN, chatMessage, JWT_SECRET, startArchive, type ArchiveHarness } from './support/archive-harness';

const alice = 'alice@localhost';
const bob = 'bob@localhost';
const dave = 'dave@localhost';
const frank = 'frank@localhost';
const T0 = Date.parse('2026-04-01T09:00:00Z');
const minutes = (m: number) => new Date(T0 + m * 60_000);

let archive: ArchiveHarness;
before(async () => {
  archive = await startArchive();
});
after(() => archive?.close());

const tokenFor = (jid: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(jid).setIssuedAt().setExpirationTime('5m')
  .sign(new TextEncoder().encode(JWT_SECRET));

async function get<T>(path: string, token: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${archive.service.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
}

interface ConversationsBody { conversations: { conversationId: string; peer: string; messageCount: number; startedAt: string; lastAt: string; firstId: string; lastId: string }[]; complete: boolean }
interface PageBody { messages: { archiveId: string; acceptedAt: string }[]; first?: string; last?: string; count: number; complete: boolean }

test('alice writes to bob at 0, 5, 14 and 40 minutes: bob sees two conversations over HTTP, one per page', async () => {
  const sent = [0, 5, 14, 40].map((m) => chatMessage(alice, bob, { acceptedAt: minutes(m) }));
  await archive.produce(sent);
  const ids = sent.map((m) => m.payload.stanzaId);
  const bobToken = await tokenFor(bob);
  await archive.eventually(async () => (await get<PageBody>(`/users/${bob}/archive?max=0`, bobToken)).body.count === 4, 'four messages archived');

  const page1 = await get<ConversationsBody>(`/users/${bob}/conversations?max=1`, bobToken);
  assert.equal(page1.status, 200);
  assert.deepEqual(page1.body.conversations.map((c) => [c.conversationId, c.peer, c.messageCount, c.firstId, c.lastId]), [[ids[0], alice, 3, ids[0], ids[2]]]);
  assert.equal(page1.body.conversations[0]!.startedAt, minutes(0).toISOString());
  assert.equal(page1.body.conversations[0]!.lastAt, minutes(14).toISOString());
  assert.equal(page1.body.complete, false);
  const page2 = await get<ConversationsBody>(`/users/${bob}/conversations?max=1&after=${ids[0]}`, bobToken);
  assert.deepEqual(page2.body.conversations.map((c) => [c.conversationId, c.messageCount]), [[ids[3], 1]]);
  assert.equal(page2.body.complete, true);

  const since = await get<ConversationsBody>(`/users/${bob}/conversations?since=${minutes(20).toISOString()}`, bobToken);
  assert.deepEqual(since.body.conversations.map((c) => c.conversationId), [ids[3]]);
  const sinceId = await get<ConversationsBody>(`/users/${bob}/conversations?sinceId=${ids[1]}`, bobToken);
  assert.deepEqual(sinceId.body.conversations.map((c) => c.conversationId), [ids[0], ids[3]], 'both have messages after the second one');

  // The first conversation's messages, paged by id both ways.
  const forward = await get<PageBody>(`/users/${bob}/conversations/${ids[0]}/messages?max=2`, bobToken);
  assert.deepEqual(forward.body.messages.map((m) => m.archiveId), ids.slice(0, 2));
  assert.equal(forward.body.complete, false);
  const rest = await get<PageBody>(`/users/${bob}/conversations/${ids[0]}/messages?max=2&after=${forward.body.last}`, bobToken);
  assert.deepEqual(rest.body.messages.map((m) => m.archiveId), [ids[2]]);
  assert.equal(rest.body.complete, true);
  const backward = await get<PageBody>(`/users/${bob}/conversations/${ids[0]}/messages?max=2&before=`, bobToken);
  assert.deepEqual(backward.body.messages.map((m) => m.archiveId), ids.slice(1, 3));
  assert.equal(backward.body.count, 3);

  const chats = await get<{ chats: { peer: string; messageCount: number; lastMessage: { archiveId: string } }[] }>(`/users/${bob}/chats`, bobToken);
  assert.deepEqual(chats.body.chats.map((c) => [c.peer, c.messageCount, c.lastMessage.archiveId]), [[alice, 4, ids[3]]]);
});

test("HTTP: bob's token cannot read alice's conversations; the admin token can; no token is 401", async () => {
  const refused = await get<{ condition: string }>(`/users/${alice}/conversations`, await tokenFor(bob));
  assert.equal(refused.status, 403);
  assert.equal(refused.body.condition, 'forbidden');
  const admin = await get<ConversationsBody>(`/users/${alice}/conversations`, ADMIN_TOKEN);
  assert.equal(admin.status, 200);
  assert.equal(admin.body.conversations.length, 2);
  const anonymous = await fetch(`${archive.service.url}/users/${alice}/conversations`);
  assert.equal(anonymous.status, 401);
  const unknown = await get<{ condition: string }>(`/users/${bob}/conversations/no-such-conversation/messages`, await tokenFor(bob));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.condition, 'item-not-found');
});

test('retention: ArchiveRetentionApplied removes what is older from every archive and keeps conversations consistent', async () => {
  const horizon = minutes(10).toISOString();
  await archive.produce([createEvent(ArchiveRetentionApplied, { before: horizon }, { key: 'retention', producer: 'test' })]);
  const bobToken = await tokenFor(bob);
  await archive.eventually(async () => (await get<PageBody>(`/users/${bob}/archive?max=0`, bobToken)).body.count === 2, 'messages before the horizon removed');
  const conversations = await get<ConversationsBody>(`/users/${bob}/conversations`, bobToken);
  assert.deepEqual(conversations.body.conversations.map((c) => [c.messageCount, c.startedAt]), [[1, minutes(14).toISOString()], [1, minutes(40).toISOString()]]);
  // A message older than the horizon that arrives late is not archived.
  const late = chatMessage(alice, bob, { acceptedAt: minutes(1) });
  const marker = chatMessage(alice, bob, { acceptedAt: minutes(50) });
  await archive.produce([late, marker]);
  await archive.eventually(async () => (await get<PageBody>(`/users/${bob}/archive?max=0`, bobToken)).body.count === 3, 'marker archived');
  const all = await get<PageBody>(`/users/${bob}/archive`, bobToken);
  assert.ok(!all.body.messages.some((m) => m.archiveId === late.payload.stanzaId));
});

test("account deletion: AccountDeleted removes dave's archive and conversations; alice keeps her copies", async () => {
  await archive.produce([chatMessage(alice, dave, { acceptedAt: minutes(60) }), chatMessage(dave, alice, { acceptedAt: minutes(61) })]);
  const daveToken = await tokenFor(dave);
  await archive.eventually(async () => (await get<PageBody>(`/users/${dave}/archive?max=0`, daveToken)).body.count === 2, "dave's messages archived");
  await archive.produce([accountDeleted(dave)]);
  await archive.eventually(async () => (await get<PageBody>(`/users/${dave}/archive?max=0`, daveToken)).body.count === 0, "dave's archive removed");
  assert.deepEqual((await get<ConversationsBody>(`/users/${dave}/conversations`, daveToken)).body.conversations, []);
  assert.deepEqual((await get<{ chats: unknown[] }>(`/users/${dave}/chats`, daveToken)).body.chats, []);
  const aliceWithDave = await get<PageBody>(`/users/${alice}/archive?with=${dave}`, await tokenFor(alice));
  assert.equal(aliceWithDave.body.count, 2);
});

test("frank's chat list spans more than one block of archive positions: most recent first, paged with before; chats and conversations advance in place", async () => {
  // Chats are indexed by blocks of 1,024 positions (the hot_aggregates migration): the last
  // messages below fall on both sides of the first boundary, out of order.
  const peers = ['p0', 'p1', 'p2', 'p3', 'p4'].map((p) => `${p}@localhost`);
  const lastFrom = new Map([[500, peers[1]!], [1000, peers[2]!], [1030, peers[3]!], [1100, peers[4]!]]);
  const sent = Array.from({ length: 1300 }, (_, i) => chatMessage(lastFrom.get(i + 1) ?? peers[0]!, frank, { acceptedAt: minutes(100 + i / 100) }));
  const franksToken = await tokenFor(frank);
  // In 26 batches, each archived before the next is sent: 25 updates of the same rows.
  for (let i = 0; i < sent.length; i += 50) {
    await archive.produce(sent.slice(i, i + 50));
    await archive.eventually(async () => (await get<PageBody>(`/users/${frank}/archive?max=0`, franksToken)).body.count === i + 50, `${i + 50} archived`);
  }

  type ChatsBody = { chats: { peer: string; lastMessage: { archiveId: string } }[]; complete: boolean };
  const pages: string[][] = [];
  for (let before: string | undefined, complete = false; !complete;) {
    const page = await get<ChatsBody>(`/users/${frank}/chats?max=2${before ? `&before=${before}` : ''}`, franksToken);
    pages.push(page.body.chats.map((c) => c.peer));
    before = page.body.chats.at(-1)?.lastMessage.archiveId;
    complete = page.body.complete;
  }
  assert.deepEqual(pages, [[peers[0], peers[4]], [peers[3], peers[2]], [peers[1]]]);
  const since = await get<ConversationsBody>(`/users/${frank}/conversations?sinceId=${sent[1029]!.payload.stanzaId}`, franksToken);
  assert.deepEqual(since.body.conversations.map((c) => c.peer), [peers[0], peers[4]], 'only these have messages after the 1,030th');

  // Each batch rewrote the chat, conversation, tracker and owner rows of frank and p0. Those
  // updates are HOT (no new index entries; only crossing into a new block is not), which is what
  // keeps live ingest cheap: an index on last_seq would make every one of them a full update.
  const db = new Client({ connectionString: archive.databaseUrl });
  await db.connect();
  try {
    await archive.eventually(async () => {
      const { rows } = await db.query<{ relname: string; updates: string; hot: string }>(
        `SELECT relname, n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables
         WHERE relname IN ('archive_chats', 'archive_conversations', 'conversation_trackers', 'archive_owners')`);
      return rows.length === 4 && rows.every((r) => Number(r.updates) >= 40 && Number(r.hot) >= 0.8 * Number(r.updates));
    }, 'at least 80% of aggregate updates HOT');
  } finally {
    await db.end();
  }
});
