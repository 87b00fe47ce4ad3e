/**
 * Issue 6 through the real protocol (XEP-0313 MAM with XEP-0059 RSM, over @xmpp/client): bob is
 * offline while alice and carol write to him over XMPP; his phone and laptop sync his archive
 * page by page, by id, and get everything exactly once in one order, even when the clocks of the
 * gateways that accepted the messages disagree (one gateway runs under libfaketime).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { xml, type TestXmppClient, type XmppElement } from '@hearth/testing';
import { ADMIN_TOKEN, type GatewayProcess } from './support/gateway-process';
import { startStack, type Stack } from './support/stack';

const MAM = 'urn:xmpp:mam:2';
const RSM = 'http://jabber.org/protocol/rsm';
const FORWARD = 'urn:xmpp:forward:0';
const DELAY = 'urn:xmpp:delay';
const DATA_FORMS = 'jabber:x:data';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
/** libfaketime (Debian package `faketime`, installed by .ci/run) shifts the second gateway's clock. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const CLOCK_SKEW_S = 30;

const alice = 'alice@localhost';
const bob = 'bob@localhost';
const carol = 'carol@localhost';
const erin = 'erin@localhost';
const gina = 'gina@localhost';
const frank = 'frank@localhost';
const STANZA_ID = 'urn:xmpp:sid:0';
/**
 * The archive lingers this long between its transactions here (its default is 100 ms): long
 * enough that a client syncing right after a message was accepted asks before the archive has
 * consumed it, so the test sees whether the archive answers as of the log.
 */
const ARCHIVE_LINGER_MS = 1_000;
const OFFLINE_MESSAGES = 250;
const PAGE = 50;

interface MamResult { id: string; stamp: string; from: string; body: string }
interface Fin { complete: boolean; first?: string; firstIndex?: string; last?: string; count?: number }
interface MamQuery {
  to?: string;
  fields?: Record<string, string | string[]>;
  rsm?: { max?: number; after?: string; before?: string; index?: number };
  flip?: boolean;
}

describe('bob syncs his archive on every device, by id (XEP-0313, XEP-0059)', { timeout: 180_000 }, () => {
  let stack: Stack;
  const clients: TestXmppClient[] = [];
  /** Bodies in the order each sender sent them. */
  const sentBy = new Map<string, string[]>([[alice, []], [carol, []]]);
  /** bob's archive as his phone first saw it: the order every later sync must agree with. */
  let archive: MamResult[] = [];

  before(async () => {
    // Each sender sends its half of the offline messages at once: allow that burst.
    stack = await startStack({
      services: ['archive'], users: [alice, bob, carol, erin, gina, frank], gatewayEnv: { HEARTH_GATEWAY_MESSAGE_BURST: '1000' },
      serviceEnv: { archive: { HEARTH_ARCHIVE_BATCH_LINGER_MS: String(ARCHIVE_LINGER_MS) } },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await stack?.stop();
  });

  async function connect(jid: string, resource: string, gateway = 0): Promise<TestXmppClient> {
    const client = await stack.connect(jid, { resource, gateway });
    clients.push(client);
    await client.send(xml('presence'));
    return client;
  }

  /** The gateway's own clock, from the Date header of its HTTP answer (RFC 9110 §6.6.1, seconds). */
  async function gatewayClock(gateway: GatewayProcess): Promise<number> {
    const response = await fetch(`${gateway.adminUrl}/healthz`);
    await response.arrayBuffer();
    return Date.parse(response.headers.get('date')!);
  }

  /** `sender` sends `to` chat messages over XMPP, in order; the gateway accepts them into the log (issue 5). */
  async function send(sender: TestXmppClient, to: string, bodies: string[]): Promise<void> {
    for (const body of bodies) await sender.send(xml('message', { to, type: 'chat', id: randomUUID() }, xml('body', {}, body)));
    sentBy.get(sender.bareJid)?.push(...bodies);
  }

  /** No message the sender sent came back as an error (refused, rate-limited, log unavailable). */
  function noneRefused(sender: TestXmppClient): void {
    const errors = sender.received.filter((s) => s.is('message') && s.attrs.type === 'error');
    assert.deepEqual(errors.map((e) => e.toString()), [], `${sender.jid} had messages refused`);
  }

  /** Waits until the archive holds `count` messages for `owner` (its HTTP API, admin token). */
  async function archived(owner: string, count: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await fetch(`${stack.services.archive!.url}/users/${owner}/archive?max=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await response.json()) as { count?: number };
      if (body.count === count) return;
      if (Date.now() > deadline) throw new Error(`the archive of ${owner} holds ${body.count}, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** One MAM query: the results forwarded to this resource before the IQ result, and the `<fin/>`. */
  async function mam(client: TestXmppClient, query: MamQuery = {}): Promise<{ results: MamResult[]; fin: Fin }> {
    const queryId = randomUUID();
    const field = (name: string, value: string | string[]) =>
      xml('field', { var: name }, ...[value].flat().map((v) => xml('value', {}, v)));
    const form = query.fields && xml('x', { xmlns: DATA_FORMS, type: 'submit' },
      field('FORM_TYPE', MAM), ...Object.entries(query.fields).map(([name, value]) => field(name, value)));
    const rsm = query.rsm && xml('set', { xmlns: RSM },
      query.rsm.max === undefined ? undefined : xml('max', {}, String(query.rsm.max)),
      query.rsm.after === undefined ? undefined : xml('after', {}, query.rsm.after),
      query.rsm.before === undefined ? undefined : xml('before', {}, query.rsm.before),
      query.rsm.index === undefined ? undefined : xml('index', {}, String(query.rsm.index)));
    const reply = await client.iq('set', xml('query', { xmlns: MAM, queryid: queryId }, form, rsm, query.flip ? xml('flip-page') : undefined), query.to, 15_000);
    // The results came before the IQ result on the same stream, so they are all here now.
    const mine = client.received.filter((s) => s.is('message') && s.getChild('result', MAM)?.attrs.queryid === queryId);
    client.received.splice(0, client.received.length, ...client.received.filter((s) => !mine.includes(s)));
    const results = mine.map((stanza) => {
      assert.equal(stanza.attrs.to, client.jid, 'results go to the asking resource');
      const result = stanza.getChild('result', MAM)!;
      const forwarded = result.getChild('forwarded', FORWARD)!;
      const original = forwarded.getChild('message', 'jabber:client')!;
      assert.equal(original.getChild('stanza-id', STANZA_ID)?.attrs.id, result.attrs.id, 'the result id is the stanza id');
      return { id: result.attrs.id!, stamp: forwarded.getChild('delay', DELAY)!.attrs.stamp!, from: original.attrs.from!.split('/')[0]!, body: original.getChildText('body')! };
    });
    const fin = reply.getChild('fin', MAM)!;
    const set = fin.getChild('set', RSM)!;
    const count = set.getChildText('count');
    return {
      results,
      fin: {
        complete: fin.attrs.complete === 'true',
        ...(set.getChild('first') ? { first: set.getChildText('first')!, firstIndex: set.getChild('first')!.attrs.index } : {}),
        ...(set.getChild('last') ? { last: set.getChildText('last')! } : {}),
        ...(count === null ? {} : { count: Number(count) }),
      },
    };
  }

  async function refusal(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      return (error as { condition?: string }).condition ?? String(error);
    }
    throw new Error('the query succeeded but should have been refused');
  }

  /** Pages forward with RSM `after` from `start`; the ids of every page, and each page's fin. */
  async function syncForward(client: TestXmppClient, start?: string, maxPages = Infinity): Promise<{ results: MamResult[]; fins: Fin[] }> {
    const results: MamResult[] = [];
    const fins: Fin[] = [];
    let after = start;
    while (fins.length < maxPages) {
      const page = await mam(client, { rsm: { max: PAGE, ...(after === undefined ? {} : { after }) } });
      results.push(...page.results);
      fins.push(page.fin);
      if (page.fin.complete) break;
      after = page.fin.last;
    }
    return { results, fins };
  }

  test(`bob is offline while alice and carol send him ${OFFLINE_MESSAGES} messages; his phone and laptop each page forward with max=${PAGE} and get all of them once, in one order`, async () => {
    const [alicePhone, carolPhone] = await Promise.all([connect(alice, 'phone'), connect(carol, 'phone')]);
    for (let round = 0; round < OFFLINE_MESSAGES / 10; round++) {
      await Promise.all([
        send(alicePhone, bob, Array.from({ length: 5 }, (_, i) => `alice ${round * 5 + i}`)),
        send(carolPhone, bob, Array.from({ length: 5 }, (_, i) => `carol ${round * 5 + i}`)),
      ]);
    }
    await archived(bob, OFFLINE_MESSAGES);
    noneRefused(alicePhone);
    noneRefused(carolPhone);

    const phone = await connect(bob, 'phone');
    const laptop = await connect(bob, 'laptop');
    const [onPhone, onLaptop] = await Promise.all([syncForward(phone), syncForward(laptop)]);
    archive = onPhone.results;
    for (const device of [onPhone, onLaptop]) {
      assert.equal(device.results.length, OFFLINE_MESSAGES);
      assert.equal(new Set(device.results.map((r) => r.id)).size, OFFLINE_MESSAGES, 'no message twice');
      assert.deepEqual(device.fins.map((f) => f.complete), [false, false, false, false, true], '<fin complete> only on the last page');
      assert.deepEqual(device.fins.map((f) => f.count), Array(5).fill(OFFLINE_MESSAGES));
      assert.equal(device.fins[0]!.firstIndex, '0');
    }
    assert.deepEqual(onLaptop.results.map((r) => r.id), archive.map((r) => r.id), 'both devices see one order');
    for (const [sender, bodies] of sentBy) {
      assert.deepEqual(archive.filter((r) => r.from === sender).map((r) => r.body), bodies, `${sender}'s messages in the order sent`);
    }
  });

  test('paging backward from the last page (empty RSM before) gives the same messages in the same order', async () => {
    const laptop = clients.find((c) => c.jid === `${bob}/laptop`)!;
    const pages: MamResult[][] = [];
    let before = '';
    for (;;) {
      const page = await mam(laptop, { rsm: { max: PAGE, before } });
      pages.unshift(page.results);
      assert.equal(page.fin.count, OFFLINE_MESSAGES);
      if (page.fin.complete) break;
      before = page.fin.first!;
    }
    assert.equal(pages.length, OFFLINE_MESSAGES / PAGE);
    assert.deepEqual(pages.flat().map((r) => r.id), archive.map((r) => r.id));
  });

  test('a sync interrupted after two pages resumes with the last id it has and gets exactly the rest', async () => {
    const tablet = await connect(bob, 'tablet');
    const firstTwo = await syncForward(tablet, undefined, 2);
    assert.equal(firstTwo.results.length, 2 * PAGE);
    await tablet.stop(); // the connection drops mid-sync
    const again = await connect(bob, 'tablet');
    const rest = await syncForward(again, firstTwo.results.at(-1)!.id);
    assert.deepEqual([...firstTwo.results, ...rest.results].map((r) => r.id), archive.map((r) => r.id));
    assert.equal(rest.fins.at(-1)!.complete, true);
  });

  test('flip-page returns the same page in reverse; RSM index starts a page at a position', async () => {
    const phone = clients.find((c) => c.jid === `${bob}/phone`)!;
    const flipped = await mam(phone, { rsm: { max: 10, after: archive[19]!.id }, flip: true });
    assert.deepEqual(flipped.results.map((r) => r.id), archive.slice(20, 30).map((r) => r.id).reverse());
    const indexed = await mam(phone, { rsm: { max: 5, index: 100 } });
    assert.deepEqual(indexed.results.map((r) => r.id), archive.slice(100, 105).map((r) => r.id));
    assert.equal(indexed.fin.firstIndex, '100');
  });

  test('filters: with (bare and full JID), start/end, ids, after-id/before-id', async () => {
    const phone = clients.find((c) => c.jid === `${bob}/phone`)!;
    const withCarol = await mam(phone, { fields: { with: carol }, rsm: { max: 250 } });
    assert.deepEqual(withCarol.results.map((r) => r.id), archive.filter((r) => r.from === carol).map((r) => r.id));
    assert.equal(withCarol.fin.complete, true);
    const withAlicePhone = await mam(phone, { fields: { with: `${alice}/phone` }, rsm: { max: 250 } });
    assert.deepEqual(withAlicePhone.results.map((r) => r.id), archive.filter((r) => r.from === alice).map((r) => r.id));
    assert.equal((await mam(phone, { fields: { with: `${alice}/laptop` } })).results.length, 0, 'no message from that resource');

    const start = archive[60]!.stamp;
    const end = archive[120]!.stamp;
    const inRange = archive.filter((r) => r.stamp >= start && r.stamp <= end);
    const byTime = await mam(phone, { fields: { start, end }, rsm: { max: 250 } });
    assert.deepEqual(byTime.results.map((r) => r.id), inRange.map((r) => r.id));
    assert.ok(inRange.length >= 61);

    const wanted = [archive[3]!, archive[200]!, archive[77]!];
    const byIds = await mam(phone, { fields: { ids: wanted.map((r) => r.id) } });
    assert.deepEqual(byIds.results.map((r) => r.id), [archive[3]!, archive[77]!, archive[200]!].map((r) => r.id), 'in archive order');

    const between = await mam(phone, { fields: { 'after-id': archive[10]!.id, 'before-id': archive[15]!.id } });
    assert.deepEqual(between.results.map((r) => r.id), archive.slice(11, 15).map((r) => r.id));
    assert.equal(between.fin.complete, true);
  });

  test('an unknown id is item-not-found, wherever it appears', async () => {
    const phone = clients.find((c) => c.jid === `${bob}/phone`)!;
    const unknown = 'no-such-message';
    assert.equal(await refusal(mam(phone, { rsm: { max: 10, after: unknown } })), 'item-not-found');
    assert.equal(await refusal(mam(phone, { rsm: { max: 10, before: unknown } })), 'item-not-found');
    assert.equal(await refusal(mam(phone, { fields: { 'after-id': unknown } })), 'item-not-found');
    assert.equal(await refusal(mam(phone, { fields: { 'before-id': unknown } })), 'item-not-found');
    assert.equal(await refusal(mam(phone, { fields: { ids: [archive[0]!.id, unknown] } })), 'item-not-found');
    // erin's ids are not in bob's archive either.
    await send(clients.find((c) => c.jid === `${alice}/phone`)!, erin, ['only for erin']);
    await archived(erin, 1);
    const erinPhone = await connect(erin, 'phone');
    const erinsId = (await mam(erinPhone)).results[0]!.id;
    assert.equal(await refusal(mam(phone, { rsm: { after: erinsId } })), 'item-not-found');
  });

  test("bob cannot read alice's archive; the server itself has none", async () => {
    const phone = clients.find((c) => c.jid === `${bob}/phone`)!;
    assert.equal(await refusal(mam(phone, { to: alice })), 'forbidden');
    assert.equal(await refusal(phone.iq('get', xml('prefs', { xmlns: MAM }), alice)), 'forbidden');
    assert.equal(await refusal(mam(phone, { to: 'nobody@localhost' })), 'service-unavailable');
    assert.equal(await refusal(mam(phone, { to: 'localhost' })), 'service-unavailable');
    const own = await mam(phone, { to: bob, rsm: { max: 1 } });
    assert.deepEqual(own.results.map((r) => r.id), [archive[0]!.id], 'his own bare JID is his archive');
  });

  test('with two gateways whose clocks differ by 30 s, syncing after the last id misses nothing (a sync by time would)', async (t) => {
    if (!existsSync(LIBFAKETIME)) assert.fail(`${LIBFAKETIME} is missing: apt-get install faketime`);
    // The second gateway runs 30 s behind (behind rather than ahead: its fresh TLS certificate must already be valid for the clients).
    const slow = await stack.addGateway({ LD_PRELOAD: LIBFAKETIME, FAKETIME: `-${CLOCK_SKEW_S}s`, FAKETIME_DONT_FAKE_MONOTONIC: '1' });
    const skew = (await gatewayClock(stack.gateways[0]!)) - (await gatewayClock(slow));
    t.diagnostic(`gateway clocks differ by ${skew / 1000} s`);
    assert.ok(skew >= (CLOCK_SKEW_S - 2) * 1000 && skew <= (CLOCK_SKEW_S + 2) * 1000, `the clocks differ by ${skew} ms`);

    const phone = clients.find((c) => c.jid === `${bob}/phone`)!;
    const lastKnown = archive.at(-1)!;
    // alice (on the gateway with the right time) writes first, carol (on the slow gateway) answers after.
    const alicePhone = clients.find((c) => c.jid === `${alice}/phone`)!;
    const carolLaptop = await connect(carol, 'laptop', stack.gateways.indexOf(slow));
    await send(alicePhone, bob, ['alice after the sync']);
    await archived(bob, OFFLINE_MESSAGES + 1);
    await send(carolLaptop, bob, ['carol after the sync']);
    await archived(bob, OFFLINE_MESSAGES + 2);
    noneRefused(carolLaptop);

    const byId = await syncForward(phone, lastKnown.id);
    assert.deepEqual(byId.results.map((r) => r.body), ['alice after the sync', 'carol after the sync']);
    assert.ok(byId.results[1]!.stamp < byId.results[0]!.stamp, "carol's later message carries the earlier server time");
    const byTime = await mam(phone, { fields: { start: byId.results[0]!.stamp } });
    assert.ok(!byTime.results.some((r) => r.body === 'carol after the sync'), 'a sync by time loses the message from the slow gateway');
    archive.push(...byId.results);
  });

  test("frank's phone comes online just after alice wrote to him: its first sync has her message though the archive had not consumed it yet, so no later sync skips it", async () => {
    const [aliceDesk, frankLaptop] = await Promise.all([connect(alice, 'desk'), connect(frank, 'laptop')]);
    const delivered = (client: TestXmppClient, body: string) => client.waitFor((s) => s.is('message') && s.getChildText('body') === body, `"${body}" on ${client.jid}`);
    await send(aliceDesk, frank, ['while the phone was off']);
    // Delivered live to his laptop: the message is in the log; the archive is still lingering.
    await delivered(frankLaptop, 'while the phone was off');
    const frankPhone = await connect(frank, 'phone');
    const first = await mam(frankPhone);
    assert.deepEqual(first.results.map((r) => r.body), ['while the phone was off'], 'the sync answers as of the log, not as of the archive');
    assert.equal(first.fin.complete, true);

    // The phone gets the next message live and keeps its stanza id: the id its next sync starts after.
    await send(aliceDesk, frank, ['live on the phone']);
    const live = await delivered(frankPhone, 'live on the phone');
    const liveId = live.getChild('stanza-id', STANZA_ID)?.attrs.id;
    assert.ok(liveId, 'the live message carries its stanza id');
    const next = await mam(frankPhone, { rsm: { after: liveId } });
    assert.deepEqual(next.results, []);
    assert.equal(next.fin.complete, true);
    const everything = await mam(frankPhone);
    assert.deepEqual(everything.results.map((r) => r.body), ['while the phone was off', 'live on the phone']);
    assert.equal(everything.results[1]!.id, liveId, 'the live id is the archive id');
  });

  test('disco#info on the account advertises MAM; the query form lists its fields; metadata and preferences', async () => {
    const laptop = clients.find((c) => c.jid === `${bob}/laptop`)!;
    const info = await laptop.iq('get', xml('query', { xmlns: DISCO_INFO }), bob);
    const features = info.getChild('query', DISCO_INFO)!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(MAM) && features.includes(`${MAM}#extended`), `features: ${features.join(' ')}`);

    const form = await laptop.iq('get', xml('query', { xmlns: MAM }));
    const fields = form.getChild('query', MAM)!.getChild('x', DATA_FORMS)!.getChildren('field').map((f: XmppElement) => f.attrs.var);
    assert.deepEqual(fields, ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']);

    const metadata = (await laptop.iq('get', xml('metadata', { xmlns: MAM }))).getChild('metadata', MAM)!;
    assert.equal(metadata.getChild('start')!.attrs.id, archive[0]!.id);
    assert.equal(metadata.getChild('end')!.attrs.id, archive.at(-1)!.id);

    const set = await laptop.iq('set', xml('prefs', { xmlns: MAM, default: 'always' },
      xml('always', {}, xml('jid', {}, carol)), xml('never', {}, xml('jid', {}, 'spam@example.org'))));
    // Preferences change through an event; the archive reads them back once it consumed it.
    let stored = (await laptop.iq('get', xml('prefs', { xmlns: MAM }))).getChild('prefs', MAM)!;
    for (const deadline = Date.now() + 10_000; stored.getChild('always')!.getChildren('jid').length === 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stored = (await laptop.iq('get', xml('prefs', { xmlns: MAM }))).getChild('prefs', MAM)!;
    }
    for (const prefs of [set.getChild('prefs', MAM)!, stored]) {
      assert.equal(prefs.attrs.default, 'always');
      assert.deepEqual(prefs.getChild('always')!.getChildren('jid').map((j) => j.text()), [carol]);
      assert.deepEqual(prefs.getChild('never')!.getChildren('jid').map((j) => j.text()), ['spam@example.org']);
    }
    assert.equal(await refusal(laptop.iq('set', xml('query', { xmlns: MAM },
      xml('x', { xmlns: DATA_FORMS, type: 'submit' }, xml('field', { var: 'FORM_TYPE' }, xml('value', {}, MAM)), xml('field', { var: 'fulltext' }, xml('value', {}, 'hi')))))),
    'feature-not-implemented');
  });

  test("gina's preferences (default never, carol always) keep alice's message out of her archive but not carol's, nor alice's own copy", async () => {
    const [ginaPhone, alicePrefs, carolPrefs] = await Promise.all([connect(gina, 'phone'), connect(alice, 'prefs'), connect(carol, 'prefs')]);
    await ginaPhone.iq('set', xml('prefs', { xmlns: MAM, default: 'never' }, xml('always', {}, xml('jid', {}, carol)), xml('never')));
    // In force once the archive consumed the change: messages accepted from then on are judged by it.
    for (const deadline = Date.now() + 10_000; ;) {
      const stored = (await ginaPhone.iq('get', xml('prefs', { xmlns: MAM }))).getChild('prefs', MAM)!;
      if (stored.attrs.default === 'never') break;
      assert.ok(Date.now() < deadline, 'the preferences reached the archive');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await send(alicePrefs, gina, ['alice to gina, not archived for gina']);
    await send(carolPrefs, gina, ['carol to gina, archived for gina']);
    noneRefused(alicePrefs);
    noneRefused(carolPrefs);

    // alice's own copy is archived with the same event as gina's would be: once it is there, gina's fate is decided.
    for (const deadline = Date.now() + 15_000; ;) {
      if ((await mam(alicePrefs, { fields: { with: gina } })).results.length === 1) break;
      assert.ok(Date.now() < deadline, "alice's copy was archived");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await archived(gina, 1);
    assert.deepEqual((await mam(ginaPhone)).results.map((r) => r.body), ['carol to gina, archived for gina']);
    assert.deepEqual((await mam(alicePrefs, { fields: { with: gina } })).results.map((r) => r.body), ['alice to gina, not archived for gina']);
  });
});
