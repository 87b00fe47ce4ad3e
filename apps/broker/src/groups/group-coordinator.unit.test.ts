import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@hearth/runtime';
import { ErrorCode } from '../protocol/error-codes';
import { GroupCoordinator, type JoinRequest } from './group-coordinator';

const log = createLogger('test', 'silent');
const protocols = [{ name: 'range', metadata: Buffer.from('m') }];
const join = (memberId = '', over: Partial<JoinRequest> = {}): JoinRequest => ({
  groupId: 'g', memberId, groupInstanceId: null, clientId: 'c', clientHost: '127.0.0.1',
  sessionTimeoutMs: 200, rebalanceTimeoutMs: 300, protocolType: 'consumer', protocols, ...over,
});

describe('group coordinator', () => {
  let coordinator: GroupCoordinator;
  const make = () => (coordinator = new GroupCoordinator({ minSessionTimeoutMs: 10, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 0 }, log));
  afterEach(() => coordinator.close());

  it('completes a join with one member as leader, then goes Stable on the leader sync', async () => {
    make();
    const first = await coordinator.join(join());
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(first.generationId, 1);
    assert.equal(first.leader, first.memberId);
    assert.equal(first.members.length, 1);
    const sync = await coordinator.sync('g', first.memberId, 1, new Map([[first.memberId, Buffer.from('all')]]));
    assert.equal(sync.assignment.toString(), 'all');
    assert.equal(coordinator.describe('g')!.state, 'Stable');
  });

  it('rebalances when a member joins: the others learn it from their heartbeat and rejoin', async () => {
    make();
    const alice = await coordinator.join(join());
    await coordinator.sync('g', alice.memberId, 1, new Map());
    const bobJoining = coordinator.join(join('', { clientId: 'bob' }));
    assert.equal(coordinator.heartbeat('g', alice.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
    const [aliceAgain, bob] = await Promise.all([coordinator.join(join(alice.memberId)), bobJoining]);
    assert.equal(aliceAgain.generationId, 2);
    assert.equal(bob.generationId, 2);
    assert.equal(aliceAgain.leader, alice.memberId, 'the leader stays');
    assert.equal(aliceAgain.members.length, 2);
    assert.equal(bob.members.length, 0, 'only the leader gets the members');
    assert.equal(coordinator.heartbeat('g', alice.memberId, 1), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(coordinator.heartbeat('g', 'nobody', 2), ErrorCode.UNKNOWN_MEMBER_ID);
    const bobSync = coordinator.sync('g', bob.memberId, 2, new Map());
    assert.equal(coordinator.validateCommit('g', bob.memberId, 2), ErrorCode.REBALANCE_IN_PROGRESS);
    await coordinator.sync('g', alice.memberId, 2, new Map([[bob.memberId, Buffer.from('b')]]));
    assert.equal((await bobSync).assignment.toString(), 'b');
    assert.equal(coordinator.validateCommit('g', bob.memberId, 2), ErrorCode.NONE);
    assert.equal(coordinator.validateCommit('g', bob.memberId, 1), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(coordinator.validateCommit('g', '', -1), ErrorCode.UNKNOWN_MEMBER_ID, 'a non-empty group takes no anonymous commits');
  });

  it('removes a member whose session expires and rebalances the rest', async () => {
    make();
    const alice = await coordinator.join(join());
    await coordinator.sync('g', alice.memberId, 1, new Map());
    const bobJoining = coordinator.join(join('', { clientId: 'bob' }));
    const aliceRejoin = coordinator.join(join(alice.memberId));
    const [, bob] = await Promise.all([aliceRejoin, bobJoining]);
    await Promise.all([coordinator.sync('g', alice.memberId, 2, new Map()), coordinator.sync('g', bob.memberId, 2, new Map())]);
    // bob keeps heartbeating; alice falls silent.
    const beat = setInterval(() => coordinator.heartbeat('g', bob.memberId, 2), 50);
    await new Promise((r) => setTimeout(r, 350));
    clearInterval(beat);
    assert.deepEqual(coordinator.describe('g')!.members.map((m) => m.memberId), [bob.memberId]);
    assert.equal(coordinator.heartbeat('g', bob.memberId, 2), ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await coordinator.join(join(bob.memberId));
    assert.equal(rejoined.generationId, 3);
    assert.equal(rejoined.leader, bob.memberId, 'a new leader is chosen');
  });

  it('refuses bad session timeouts, unknown members and mismatched protocols; a leave empties the group', async () => {
    make();
    assert.equal((await coordinator.join(join('', { sessionTimeoutMs: 1 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await coordinator.join(join('ghost'))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const alice = await coordinator.join(join());
    const other = await coordinator.join(join('', { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] }));
    assert.equal(other.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.deepEqual(coordinator.leave('g', [{ memberId: alice.memberId, groupInstanceId: null }]), [ErrorCode.NONE]);
    assert.equal(coordinator.describe('g')!.state, 'Empty');
    assert.equal(coordinator.validateCommit('g', '', -1), ErrorCode.NONE, 'an empty group takes commits from outside');
  });
});
