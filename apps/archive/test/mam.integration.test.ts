/**
 * XEP-0313 MAM through the archive's gRPC API, the way the gateway's MAM module calls it:
 * alice and carol write to bob while he is offline, bob's devices sync his archive.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Client } from 'pg';
import { ADMIN_TOKEN, chatMessage, conditionOf, startArchive, type ArchiveHarness, type QueryFields, type QueryReply } from './support/archive-harness';

const alice = 'alice@localhost';
const bob = 'bob@localhost';
const carol = 'carol@localhost';
const erin = 'erin@localhost';
const dave = 'dave@localhost';
/** How long a read waits for the projection here (default 3 s), so a read that cannot be answered fails soon. */
const READ_WAIT_MS = 1_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
/** alice's gateway clock runs 30 s ahead of carol's. */
const SKEW_MS = 30_000;

let archive: ArchiveHarness;
/** What bob's archive must hold, in the order the log has it. */
const bobExpected: string[] = [];
const acceptedAtById = new Map<string, number>();

before(async () => {
  archive = await startArchive({ HEARTH_ARCHIVE_READ_WAIT_MS: String(READ_WAIT_MS) });
  const events = Array.from({ length: 250 }, (_, i) => {
    const fromAlice = i % 2 === 0;
    const acceptedAt = new Date(T0 + i * 1_000 + (fromAlice ? SKEW_MS : 0));
    const event = chatMessage(fromAlice ? alice : carol, bob, { acceptedAt, resource: fromAlice && i % 4 === 0 ? 'laptop' : 'phone' });
    bobExpected.push(event.payload.stanzaId);
    acceptedAtById.set(event.payload.stanzaId, acceptedAt.getTime());
    return event;
  });
  await archive.produce(events);
  await archive.eventually(async () => (await bobQuery({ rsm: { max: 0, has_max: true } })).count === '250', "bob's 250 messages archived");
});

after(() => archive?.close());

const bobQuery = (fields: Partial<QueryFields>) => archive.client.query({ requester: bob, owner: bob, ...fields });

async function syncForward(from: string | undefined, pages = Infinity): Promise<{ ids: string[]; replies: QueryReply[] }> {
  const ids: string[] = [];
  const replies: QueryReply[] = [];
  let cursor = from;
  while (replies.length < pages) {
    const reply = await bobQuery({ rsm: { max: 50, has_max: true, ...(cursor ? { after: cursor } : {}) } });
    replies.push(reply);
    ids.push(...reply.messages.map((m) => m.archive_id));
    if (reply.complete) break;
    cursor = reply.last;
  }
  return { ids, replies };
}

test("bob's phone and laptop each page forward with max=50 and get all 250 exactly once, in the same order", async () => {
  const [phone, laptop] = await Promise.all([syncForward(undefined), syncForward(undefined)]);
  for (const device of [phone, laptop]) {
    assert.deepEqual(device.ids, bobExpected);
    assert.deepEqual(device.replies.map((r) => r.messages.length), [50, 50, 50, 50, 50]);
    assert.deepEqual(device.replies.map((r) => r.complete), [false, false, false, false, true], '<fin complete> only on the page that exhausts the range');
    assert.ok(device.replies.every((r) => r.count === '250'));
    assert.equal(device.replies[0]!.first_index, '0');
  }
  const first = phone.replies[0]!.messages[0]!;
  assert.equal(new Date(first.accepted_at).getTime(), acceptedAtById.get(first.archive_id), 'accepted_at is the server time, for <delay>');
  assert.match(first.stanza, new RegExp(`<stanza-id xmlns='urn:xmpp:sid:0' by='${bob}' id='${first.archive_id}'/>`));
});

test('bob pages backward from the last page with before and gets the same 250 in the same order', async () => {
  const pages: QueryReply[] = [];
  let cursor = '';
  for (;;) {
    const reply = await bobQuery({ rsm: { max: 50, has_max: true, before: cursor, has_before: true } });
    pages.unshift(reply);
    if (reply.complete) break;
    cursor = reply.first;
  }
  assert.deepEqual(pages.flatMap((p) => p.messages.map((m) => m.archive_id)), bobExpected);
  assert.equal(pages.length, 5);
  assert.equal(pages[4]!.first_index, '200', 'the last page starts at index count - 50');
  assert.equal(pages[4]!.has_first_index, true);
});

test('a sync interrupted after two pages resumes from the last id it has and gets exactly the rest', async () => {
  const interrupted = await syncForward(undefined, 2);
  assert.equal(interrupted.ids.length, 100);
  const resumed = await syncForward(interrupted.ids[99]);
  assert.deepEqual([...interrupted.ids, ...resumed.ids], bobExpected);
});

test('with gateway clocks 30 s apart, a device syncing "after the last id it has" misses nothing that a time-based sync would', async () => {
  const lastId = bobExpected[bobExpected.length - 1]!;
  // The newest timestamp the device has seen came from alice's fast gateway clock.
  const newestSeen = Math.max(...acceptedAtById.values());
  // carol's gateway (30 s behind alice's) accepts 10 more: stamped before what bob has seen.
  const late = Array.from({ length: 10 }, (_, i) => chatMessage(carol, bob, { acceptedAt: new Date(newestSeen - SKEW_MS + i) }));
  await archive.produce(late);
  for (const m of late) bobExpected.push(m.payload.stanzaId);
  await archive.eventually(async () => (await bobQuery({ rsm: { max: 0, has_max: true } })).count === '260', 'the late messages archived');

  const byId = await syncForward(lastId);
  assert.deepEqual(byId.ids, late.map((m) => m.payload.stanzaId));
  const byTime = await bobQuery({ start: new Date(newestSeen + 1).toISOString() });
  assert.equal(byTime.messages.length, 0, 'the time-based sync would have missed all ten');
  const byAfterIdFilter = await bobQuery({ after_id: lastId });
  assert.deepEqual(byAfterIdFilter.messages.map((m) => m.archive_id), byId.ids, 'the after-id filter (mam:2#extended) agrees');
});

test('filters: with (bare and full JID), start/end, ids, before-id', async () => {
  const withAlice = await bobQuery({ with: alice, rsm: { max: 250, has_max: true } });
  assert.equal(withAlice.count, '125');
  assert.deepEqual(withAlice.messages.map((m) => m.archive_id), bobExpected.filter((_, i) => i < 250 && i % 2 === 0));

  const withLaptop = await bobQuery({ with: `${alice}/laptop`, rsm: { max: 250, has_max: true } });
  assert.deepEqual(withLaptop.messages.map((m) => m.archive_id), bobExpected.filter((_, i) => i < 250 && i % 4 === 0));
  assert.equal(withLaptop.count, String(withLaptop.messages.length));

  const start = new Date(T0 + 100_000).toISOString();
  const end = new Date(T0 + 109_999).toISOString();
  const window = await bobQuery({ start, end, rsm: { max: 250, has_max: true } });
  const inWindow = bobExpected.filter((id) => acceptedAtById.has(id) && acceptedAtById.get(id)! >= T0 + 100_000 && acceptedAtById.get(id)! <= T0 + 109_999);
  assert.ok(inWindow.length > 0);
  assert.deepEqual(window.messages.map((m) => m.archive_id), inWindow);
  assert.equal(window.count, String(inWindow.length));

  const wanted = [bobExpected[7]!, bobExpected[3]!, bobExpected[200]!];
  const byIds = await bobQuery({ ids: wanted });
  assert.deepEqual(byIds.messages.map((m) => m.archive_id), [bobExpected[3], bobExpected[7], bobExpected[200]], 'in archive order');
  assert.equal(byIds.complete, true);

  const beforeTen = await bobQuery({ before_id: bobExpected[10]! });
  assert.deepEqual(beforeTen.messages.map((m) => m.archive_id), bobExpected.slice(0, 10));
});

test('flip-page returns the page in reverse order; max above the server maximum is lowered to it', async () => {
  const flipped = await bobQuery({ rsm: { max: 3, has_max: true }, flip_page: true });
  assert.deepEqual(flipped.messages.map((m) => m.archive_id), bobExpected.slice(0, 3).reverse());
  const capped = await bobQuery({ rsm: { max: 1000, has_max: true } });
  assert.equal(capped.messages.length, 250);
  assert.equal(capped.complete, false);
  const indexed = await bobQuery({ rsm: { max: 2, has_max: true, index: 5, has_index: true } });
  assert.deepEqual(indexed.messages.map((m) => m.archive_id), bobExpected.slice(5, 7));
  assert.equal(indexed.first_index, '5');
});

test("bob cannot read alice's archive", async () => {
  await assert.rejects(archive.client.query({ requester: bob, owner: alice }), (error: unknown) => {
    assert.equal((error as { code: number }).code, status.PERMISSION_DENIED);
    assert.equal(conditionOf(error), 'forbidden');
    return true;
  });
  const own = await archive.client.query({ requester: alice, owner: alice, rsm: { max: 0, has_max: true } });
  assert.equal(own.count, '125', "alice's archive holds her sent copies");
});

/** Whether `owner`'s archive holds the message yet (an id it does not hold is item-not-found). */
const archivedIn = (owner: string, stanzaId: string) => archive.client.query({ requester: owner, owner, ids: [stanzaId] })
  .then((reply) => reply.messages.length === 1, (error: unknown) => (conditionOf(error) === 'item-not-found' ? false : Promise.reject(error)));

test('an unknown id in after-id, before-id, ids, RSM after or RSM before is item-not-found, never an empty page', async () => {
  const aliceToCarol = chatMessage(alice, carol);
  await archive.produce([aliceToCarol]);
  await archive.eventually(() => archivedIn(carol, aliceToCarol.payload.stanzaId), 'alice→carol archived');
  // 'no-such-id' does not exist; alice→carol exists, but not in bob's archive.
  for (const unknown of ['no-such-id', aliceToCarol.payload.stanzaId]) {
    for (const fields of [{ after_id: unknown }, { before_id: unknown }, { ids: [unknown] }, { rsm: { after: unknown } }, { rsm: { before: unknown, has_before: true } }]) {
      await assert.rejects(bobQuery(fields), (error: unknown) => {
        assert.equal((error as { code: number }).code, status.NOT_FOUND, JSON.stringify(fields));
        assert.equal(conditionOf(error), 'item-not-found');
        return true;
      });
    }
  }
});

test('a message accepted twice with the same stanza id is archived once', async () => {
  const message = chatMessage(alice, bob);
  await archive.produce([message]);
  await archive.produce([{ ...message, id: '00000000-0000-4000-8000-00000000d0b1' }]);
  const marker = chatMessage(carol, bob);
  await archive.produce([marker]);
  await archive.eventually(async () => (await bobQuery({ rsm: { before: '', has_before: true, max: 1, has_max: true } })).last === marker.payload.stanzaId, 'marker archived');
  const last = await bobQuery({ rsm: { before: '', has_before: true, max: 2, has_max: true } });
  assert.deepEqual(last.messages.map((m) => m.archive_id), [message.payload.stanzaId, marker.payload.stanzaId]);
});

test("what bob is sent comes back from his archive as it was sent: line breaks, tabs, backslashes (a XEP-0106 escaped JID), text that looks like COPY's markers, emoji, and a message longer than a chunk of COPY data", async () => {
  const dartagnan = 'd\\27artagnan@localhost';
  const body = 'line one\nline\ttwo\r\nback\\slash, \\N and \\. ünïcødé 😀';
  const message = chatMessage(dartagnan, bob, { body, resource: 'tab\\5c phone' });
  const long = chatMessage(dartagnan, bob, { body: `${body}\t`.repeat(2_000) });
  await archive.produce([message, long]);
  const archived = (await archive.eventually(async () => {
    const page = await bobQuery({ ids: [message.payload.stanzaId, long.payload.stanzaId] });
    return page.messages.length === 2 && page.messages;
  }, 'messages archived'))!;
  assert.deepEqual(archived.map((m) => m.stanza), [message.payload.stanza, long.payload.stanza]);
  assert.ok(archived[0]!.stanza.includes(body));
  assert.ok(Buffer.byteLength(long.payload.stanza) > 100_000, 'longer than a whole usual chunk of COPY data (64 rows of about 600 bytes)');
  const withSender = await bobQuery({ with: message.payload.senderFullJid, rsm: { max: 10, has_max: true } });
  assert.deepEqual(withSender.messages.map((m) => m.archive_id), [message.payload.stanzaId], 'found by the full JID it came from');
  const chats = await archive.client.call<{ chats: { peer: string }[] }>('ListChats', { requester: bob, owner: bob });
  assert.ok(chats.chats.some((c) => c.peer === dartagnan), "bob's chats hold the one with d'Artagnan");
});

test('erin sets her preferences to never: what alice sends her afterwards stays only in alice\'s archive', async () => {
  const prefs = await archive.client.call<{ default: string; never: string[] }>('SetPreferences', { requester: erin, owner: erin, default: 'never', always: [], never: [] });
  assert.equal(prefs.default, 'never');
  await archive.eventually(async () => (await archive.client.call<{ default: string }>('GetPreferences', { requester: erin, owner: erin })).default === 'never', 'preferences projected');
  const message = chatMessage(alice, erin, { acceptedAt: new Date(Date.now() + 1_000) });
  await archive.produce([message]);
  await archive.eventually(() => archivedIn(alice, message.payload.stanzaId), "alice's copy archived");
  assert.equal((await archive.client.query({ requester: erin, owner: erin, rsm: { max: 0, has_max: true } })).count, '0');
  await assert.rejects(archive.client.call('SetPreferences', { requester: erin, owner: erin, default: 'sometimes' }), (e: unknown) => conditionOf(e) === 'bad-request');
});

test("while the archive cannot apply alice's message to dave, dave's read is a wait error (gRPC and HTTP 503), never a page without it; then the page has it", async () => {
  const first = chatMessage(alice, dave, { body: 'first' });
  await archive.produce([first]);
  await archive.eventually(() => archivedIn(dave, first.payload.stanzaId), "dave's first message archived");
  // Another transaction holds dave's archive position: the shard's next transaction waits for it.
  const blocker = new Client({ connectionString: archive.databaseUrl });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM archive_owners WHERE owner = $1 FOR UPDATE', [dave]);
    const second = chatMessage(alice, dave, { body: 'second' });
    await archive.produce([second]);

    await assert.rejects(archive.client.query({ requester: dave, owner: dave }), (error: unknown) => {
      assert.equal((error as { code: number }).code, status.UNAVAILABLE);
      assert.equal(conditionOf(error), 'resource-constraint');
      return true;
    });
    const response = await fetch(`${archive.service.url}/users/${dave}/archive`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '1');
    assert.equal(((await response.json()) as { condition: string }).condition, 'resource-constraint');

    await blocker.query('ROLLBACK');
    const page = await archive.client.query({ requester: dave, owner: dave });
    assert.deepEqual(page.messages.map((m) => m.archive_id), [first.payload.stanzaId, second.payload.stanzaId]);
  } finally {
    await blocker.end();
  }
});
