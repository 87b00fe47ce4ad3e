/**
 * Badges in a burst: read-state announces one UnreadChanged per (user, chat) per batch it applies,
 * caused by the chat's last message in it (apps/read-state/README.md). Its total also settles the
 * chat's earlier waiting pushes, so none of them waits HEARTH_PUSH_BADGE_WAIT_MS (20 s here: a
 * guessed badge would be visibly late) — and it settles nothing of another chat, nor of its own
 * chat after its cause.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { Envelope } from '@hearth/contracts';
import type { RunningApns } from '@hearth/testing';
import { chatMessage, deviceToken, unreadChanged, type Message } from './support/log';
import { ADMIN, BUNDLE, startPushFixture, type PushFixture } from './support/push-fixture';
import type { RunningPush } from './support/push-service';

const BADGE_WAIT_MS = 20_000;
/** Well before the badge wait: a push settled by the burst's UnreadChanged comes within this. */
const SETTLED_WITHIN_MS = 8_000;

describe('push: one UnreadChanged settles the badge of its chat\'s whole burst', { timeout: 90_000 }, () => {
  let fixture: PushFixture;
  let apns: RunningApns;
  let push: RunningPush;
  let db: Pool;

  before(async () => {
    fixture = await startPushFixture('push_burst', { HEARTH_PUSH_BADGE_WAIT_MS: String(BADGE_WAIT_MS) });
    ({ apns, push, db } = fixture);
  });
  after(() => fixture?.stop());

  const append = (...events: Envelope[]) => fixture.append(...events);
  const caughtUp = () => fixture.caughtUp();

  async function register(user: string, token: string): Promise<void> {
    const response = await fetch(`${push.url}/users/${user}/devices/${user.split('@')[0]}-iphone`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceToken: token, bundleId: BUNDLE, environment: 'sandbox' }),
    });
    assert.equal(response.status, 200, await response.text());
  }

  /** The pushes of these messages, each as soon as APNs accepted it, with the time since `since`. */
  const pushesOf = (messages: Message[], since: number) => Promise.all(messages.map(async (m) => {
    const request = await apns.waitFor((r) => r.accepted && (r.payload?.hearth as { eventId?: string } | undefined)?.eventId === m.id, `the push of "${m.payload.body}"`);
    return { badge: request.payload!.aps!.badge, afterMs: Date.now() - since };
  }));

  const sendOf = async (message: Message) =>
    (await db.query<{ state: string; badge: number | null }>('SELECT state, badge FROM push_sends WHERE event_id = $1', [message.id])).rows;

  test('alice sends lena three messages in one batch, read-state announces total 4 once (caused by the third): all three pushes carry 4 at once; mike\'s chat and alice\'s fourth message keep waiting', async () => {
    await register('lena@localhost', deviceToken());
    const burst = [
      chatMessage('alice@localhost', 'lena@localhost', 'one'),
      chatMessage('alice@localhost', 'lena@localhost', 'two'),
      chatMessage('alice@localhost', 'lena@localhost', 'three'),
    ];
    const fromMike = chatMessage('mike@localhost', 'lena@localhost', 'from another chat');
    const fourth = chatMessage('alice@localhost', 'lena@localhost', 'four, after the cause');
    await append(...burst, fromMike, fourth);
    await caughtUp(); // the pushes wait for their badge (20 s)

    const announced = Date.now();
    await append(unreadChanged('lena@localhost', 'alice@localhost', 3, 4, burst[2], 'message-arrived'));
    const pushes = await pushesOf(burst, announced);
    assert.deepEqual(pushes.map((p) => p.badge), [4, 4, 4], 'the total at the third message is every burst message\'s badge');
    for (const p of pushes) assert.ok(p.afterMs < SETTLED_WITHIN_MS, `sent ${p.afterMs} ms after the announcement, not after the badge wait`);

    await caughtUp();
    assert.deepEqual(await sendOf(fromMike), [{ state: 'pending', badge: null }], 'another chat is not settled by alice\'s total');
    assert.deepEqual(await sendOf(fourth), [{ state: 'pending', badge: null }], 'a message after the cause waits for its own total');

    const settled = Date.now();
    await append(
      unreadChanged('lena@localhost', 'mike@localhost', 1, 5, fromMike, 'message-arrived'),
      unreadChanged('lena@localhost', 'alice@localhost', 4, 6, fourth, 'message-arrived'),
    );
    const later = await pushesOf([fromMike, fourth], settled);
    assert.deepEqual(later.map((p) => p.badge), [5, 6]);
    for (const p of later) assert.ok(p.afterMs < SETTLED_WITHIN_MS, `sent ${p.afterMs} ms after its own announcement`);
  });

  test('read-state\'s total comes before the burst is applied (the topics are consumed in no fixed order): the burst takes it all the same', async () => {
    await register('nora@localhost', deviceToken());
    const burst = [
      chatMessage('alice@localhost', 'nora@localhost', 'first'),
      chatMessage('alice@localhost', 'nora@localhost', 'second'),
      chatMessage('alice@localhost', 'nora@localhost', 'third'),
    ];
    const fromMike = chatMessage('mike@localhost', 'nora@localhost', 'not alice');
    await append(unreadChanged('nora@localhost', 'alice@localhost', 3, 3, burst[2], 'message-arrived'));
    await caughtUp();

    const appended = Date.now();
    await append(...burst, fromMike);
    const pushes = await pushesOf(burst, appended);
    assert.deepEqual(pushes.map((p) => p.badge), [3, 3, 3]);
    for (const p of pushes) assert.ok(p.afterMs < SETTLED_WITHIN_MS, `sent ${p.afterMs} ms after the burst, not after the badge wait`);
    await caughtUp();
    assert.deepEqual(await sendOf(fromMike), [{ state: 'pending', badge: null }], 'another chat is not settled by alice\'s total');
  });
});
