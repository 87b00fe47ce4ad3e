import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Envelope } from '@hearth/contracts';
import { createLogger } from '@hearth/runtime';
import { LogUnavailableError, type EventLog } from '../../log/event-log';
import { Session } from '../../sessions/session';
import type { C2SConnection } from '../../stream/c2s-connection';
import { Jid } from '../../xml/jid';
import { SessionJournal } from './session-journal';

/** A log whose appends fail while `down` and otherwise record the event after a delay. */
class FlakyLog implements EventLog {
  readonly instanceId = 'gateway-test';
  readonly appended: Envelope[] = [];
  down = 0;
  on(): void {}
  async append(event: Envelope): Promise<void> {
    if (this.down > 0) {
      this.down -= 1;
      throw new LogUnavailableError('broker away');
    }
    await new Promise((resolve) => setImmediate(resolve));
    this.appended.push(event);
  }
}

const session = (jid: string, id: string) =>
  new Session(Jid.parse(jid)!, { id, transport: { kind: 'tcp' } } as unknown as C2SConnection);
const noWait = () => Promise.resolve();

describe('session journal', () => {
  test('given a broker that refuses twice, one user\'s events are appended in order once it takes them', async () => {
    const log = new FlakyLog();
    log.down = 2;
    const journal = new SessionJournal(log, createLogger('test', 'silent'), noWait);
    const alice = session('alice@localhost/phone', 's1');
    journal.bound(alice);
    journal.hibernated(alice, 300);
    journal.resumed(alice);
    journal.closed(alice, 'client-closed');
    assert.equal(await journal.drain(1_000), true);
    assert.deepEqual(log.appended.map((e) => e.type), ['SessionOpened', 'SessionBound', 'SessionHibernated', 'SessionResumed', 'SessionClosed']);
    assert.ok(log.appended.every((e) => e.key === 'alice@localhost' && (e.payload as { gateway: string }).gateway === 'gateway-test'));
  });

  test('given a broker that never comes back, the event is given up after the retries and later ones still go', async () => {
    const log = new FlakyLog();
    log.down = 1_000;
    const journal = new SessionJournal(log, createLogger('test', 'silent'), noWait);
    journal.bound(session('bob@localhost/desk', 's2'));
    assert.equal(await journal.drain(1_000), true, 'recording never hangs');
    assert.equal(log.appended.length, 0);
    log.down = 0;
    journal.closed(session('bob@localhost/desk', 's2'), 'error');
    assert.equal(await journal.drain(1_000), true);
    assert.deepEqual(log.appended.map((e) => e.type), ['SessionClosed']);
  });

  test('without a log nothing is recorded', async () => {
    const journal = new SessionJournal(null, createLogger('test', 'silent'), noWait);
    journal.bound(session('carol@localhost/web', 's3'));
    assert.equal(await journal.drain(100), true);
  });
});
