/**
 * The classic consumer-group protocol (the coordinator side of JoinGroup, SyncGroup, Heartbeat
 * and LeaveGroup), following Kafka's GroupCoordinator state machine:
 *
 *   Empty ──join──► PreparingRebalance ──all members rejoined / rebalance timeout──►
 *   CompletingRebalance ──leader's SyncGroup──► Stable ──join, leave, session expiry──► PreparingRebalance
 *
 * https://cwiki.apache.org/confluence/display/KAFKA/Kafka+Client-side+Assignment+Proposal
 * Members that stop heartbeating for their session timeout are removed; members that do not
 * rejoin within the rebalance timeout are dropped from the new generation.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@hearth/runtime';
import { ErrorCode, type ErrorCodeValue } from '../protocol/error-codes';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}
export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
}
export interface JoinResult {
  errorCode: ErrorCodeValue;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}
export interface SyncResult {
  errorCode: ErrorCodeValue;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}
export interface CoordinatorOptions {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
}

const EMPTY = Buffer.alloc(0);

class Member {
  assignment: Buffer = EMPTY;
  awaitingJoin: ((result: JoinResult) => void) | null = null;
  awaitingSync: ((result: SyncResult) => void) | null = null;
  sessionTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly memberId: string,
    public groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocols: GroupProtocol[],
  ) {}

  metadataFor(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }
}

class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  rebalanceTimer: NodeJS.Timeout | null = null;
  syncTimer: NodeJS.Timeout | null = null;
  /** Join completion waits at least until then (group.initial.rebalance.delay.ms on an empty group). */
  joinNotBefore = 0;

  constructor(readonly groupId: string) {}
}

function sameProtocols(a: GroupProtocol[], b: GroupProtocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly options: CoordinatorOptions,
    private readonly log: Logger,
  ) {}

  // ---------------------------------------------------------------- JoinGroup

  join(req: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: ErrorCodeValue): Promise<JoinResult> =>
      Promise.resolve({ errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: req.memberId, members: [] });
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (req.sessionTimeoutMs < this.options.minSessionTimeoutMs || req.sessionTimeoutMs > this.options.maxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      group = new Group(req.groupId);
      this.groups.set(req.groupId, group);
    }
    if (!this.supportsProtocols(group, req)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    if (req.memberId === '') {
      const member = new Member(
        `${req.clientId}-${randomUUID()}`, req.groupInstanceId, req.clientId, req.clientHost,
        req.sessionTimeoutMs, req.rebalanceTimeoutMs, req.protocols,
      );
      group.members.set(member.memberId, member);
      if (group.members.size === 1) group.protocolType = req.protocolType;
      this.log.info({ group: group.groupId, member: member.memberId }, 'member joined; rebalancing');
      const result = this.awaitJoin(member);
      if (group.state === 'PreparingRebalance') this.checkJoinComplete(group);
      else this.prepareRebalance(group, 'new member');
      return result;
    }

    const member = group.members.get(req.memberId);
    if (!member || group.state === 'Empty' || group.state === 'Dead') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    const changed = !sameProtocols(member.protocols, req.protocols);
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    switch (group.state) {
      case 'PreparingRebalance': {
        const result = this.awaitJoin(member);
        this.checkJoinComplete(group);
        return result;
      }
      case 'CompletingRebalance':
        if (!changed) return Promise.resolve(this.joinResult(group, member));
        break;
      case 'Stable':
        // A follower that rejoins unchanged gets the current generation back (as in Kafka).
        if (!changed && group.leaderId !== member.memberId) return Promise.resolve(this.joinResult(group, member));
        break;
    }
    const result = this.awaitJoin(member);
    this.prepareRebalance(group, changed ? 'member metadata changed' : 'leader rejoined');
    return result;
  }

  private supportsProtocols(group: Group, req: JoinRequest): boolean {
    if (req.protocolType === '' || req.protocols.length === 0) return false;
    const others = [...group.members.values()].filter((m) => m.memberId !== req.memberId);
    if (others.length === 0) return true;
    if (group.protocolType !== req.protocolType) return false;
    return req.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  private awaitJoin(member: Member): Promise<JoinResult> {
    const previous = member.awaitingJoin;
    return new Promise((resolve) => {
      member.awaitingJoin = resolve;
      previous?.({
        errorCode: ErrorCode.REBALANCE_IN_PROGRESS, generationId: -1, protocolType: null, protocolName: null,
        leader: '', memberId: member.memberId, members: [],
      });
    });
  }

  private joinResult(group: Group, member: Member): JoinResult {
    const isLeader = group.leaderId === member.memberId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(group.protocolName),
          }))
        : [],
    };
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      for (const m of group.members.values()) this.answerSync(group, m, ErrorCode.REBALANCE_IN_PROGRESS);
    }
    if (group.syncTimer) clearTimeout(group.syncTimer);
    group.syncTimer = null;
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    const rebalanceTimeout = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    group.joinNotBefore = wasEmpty ? Date.now() + Math.min(this.options.initialRebalanceDelayMs, rebalanceTimeout) : 0;
    if (group.rebalanceTimer) clearTimeout(group.rebalanceTimer);
    group.rebalanceTimer = setTimeout(() => this.onRebalanceTimeout(group), rebalanceTimeout);
    if (group.joinNotBefore > Date.now()) {
      setTimeout(() => this.checkJoinComplete(group), group.joinNotBefore - Date.now());
    }
    this.log.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing rebalance');
    this.checkJoinComplete(group);
  }

  private checkJoinComplete(group: Group): void {
    if (group.state !== 'PreparingRebalance' || Date.now() < group.joinNotBefore) return;
    for (const m of group.members.values()) if (!m.awaitingJoin) return;
    this.completeJoin(group);
  }

  private onRebalanceTimeout(group: Group): void {
    group.rebalanceTimer = null;
    if (group.state !== 'PreparingRebalance') return;
    for (const m of [...group.members.values()]) {
      if (!m.awaitingJoin) this.removeMember(group, m, 'did not rejoin within the rebalance timeout', false);
    }
    this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (group.rebalanceTimer) clearTimeout(group.rebalanceTimer);
    group.rebalanceTimer = null;
    group.generationId++;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = null;
      group.protocolType = null;
      group.leaderId = null;
      this.log.info({ group: group.groupId, generation: group.generationId }, 'group is empty');
      return;
    }
    group.protocolName = this.selectProtocol(group);
    if (group.leaderId === null || !group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
    group.state = 'CompletingRebalance';
    for (const m of group.members.values()) {
      const answer = m.awaitingJoin;
      m.awaitingJoin = null;
      this.touch(group, m);
      answer?.(this.joinResult(group, m));
    }
    const generation = group.generationId;
    const timeout = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    group.syncTimer = setTimeout(() => this.onSyncTimeout(group, generation), timeout);
    this.log.info(
      { group: group.groupId, generation, members: group.members.size, leader: group.leaderId, protocol: group.protocolName },
      'rebalance: join complete',
    );
  }

  /** The protocol every member supports that most members list first (Kafka's vote). */
  private selectProtocol(group: Group): string {
    const members = [...group.members.values()];
    const candidates = members[0]!.protocols.map((p) => p.name).filter((n) => members.every((m) => m.protocols.some((p) => p.name === n)));
    const votes = new Map<string, number>();
    for (const m of members) {
      const choice = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    return [...votes].sort((a, b) => b[1] - a[1])[0]![0];
  }

  private onSyncTimeout(group: Group, generation: number): void {
    group.syncTimer = null;
    if (group.state !== 'CompletingRebalance' || group.generationId !== generation) return;
    for (const m of [...group.members.values()]) {
      if (!m.awaitingSync) this.removeMember(group, m, 'did not sync within the rebalance timeout', false);
    }
    if (group.state === 'CompletingRebalance') this.prepareRebalance(group, 'sync timeout');
  }

  // ---------------------------------------------------------------- SyncGroup

  sync(groupId: string, memberId: string, generationId: number, assignments: Map<string, Buffer>): Promise<SyncResult> {
    const group = this.groups.get(groupId);
    const fail = (errorCode: ErrorCodeValue): Promise<SyncResult> =>
      Promise.resolve({ errorCode, protocolType: group?.protocolType ?? null, protocolName: group?.protocolName ?? null, assignment: EMPTY });
    const member = group?.members.get(memberId);
    if (!group || !member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.touch(group, member);
        return Promise.resolve({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      case 'CompletingRebalance': {
        this.touch(group, member);
        const result = new Promise<SyncResult>((resolve) => (member.awaitingSync = resolve));
        if (memberId === group.leaderId) {
          for (const m of group.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY;
          group.state = 'Stable';
          if (group.syncTimer) clearTimeout(group.syncTimer);
          group.syncTimer = null;
          for (const m of group.members.values()) this.answerSync(group, m, ErrorCode.NONE);
          this.log.info({ group: group.groupId, generation: group.generationId }, 'rebalance: group stable');
        }
        return result;
      }
    }
  }

  private answerSync(group: Group, member: Member, errorCode: ErrorCodeValue): void {
    const answer = member.awaitingSync;
    member.awaitingSync = null;
    answer?.({
      errorCode, protocolType: group.protocolType, protocolName: group.protocolName,
      assignment: errorCode === ErrorCode.NONE ? member.assignment : EMPTY,
    });
  }

  // ---------------------------------------------------------------- Heartbeat, LeaveGroup, sessions

  heartbeat(groupId: string, memberId: string, generationId: number): ErrorCodeValue {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (!group || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(group, member);
    if (group.state === 'PreparingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  leave(groupId: string, members: { memberId: string; groupInstanceId: string | null }[]): ErrorCodeValue[] {
    const group = this.groups.get(groupId);
    return members.map(({ memberId, groupInstanceId }) => {
      const member =
        group?.members.get(memberId) ??
        (groupInstanceId ? [...(group?.members.values() ?? [])].find((m) => m.groupInstanceId === groupInstanceId) : undefined);
      if (!group || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
      this.removeMember(group, member, 'left the group', true);
      return ErrorCode.NONE;
    });
  }

  /** Restarts the member's session timer (on heartbeat, join, sync and commit). */
  private touch(group: Group, member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => this.onSessionExpired(group, member), member.sessionTimeoutMs);
  }

  private onSessionExpired(group: Group, member: Member): void {
    member.sessionTimer = null;
    if (group.members.get(member.memberId) !== member) return;
    // A member parked in JoinGroup or SyncGroup is waiting on us, not dead: the rebalance timeout governs it.
    if (member.awaitingJoin || member.awaitingSync) return this.touch(group, member);
    this.removeMember(group, member, 'session timeout expired', true);
  }

  private removeMember(group: Group, member: Member, reason: string, rebalance: boolean): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    group.members.delete(member.memberId);
    member.awaitingJoin?.({
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID, generationId: -1, protocolType: null, protocolName: null,
      leader: '', memberId: member.memberId, members: [],
    });
    member.awaitingJoin = null;
    this.answerSync(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.leaderId === member.memberId) group.leaderId = null;
    this.log.info({ group: group.groupId, member: member.memberId, reason }, 'member removed');
    if (!rebalance) return;
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group, reason);
    else if (group.state === 'PreparingRebalance') this.checkJoinComplete(group);
  }

  // ---------------------------------------------------------------- offsets, describe, list

  /**
   * May this (member, generation) commit offsets? Kafka's rules: a client outside any group
   * (generation -1, no member id) may commit to an empty group; members commit for their generation.
   */
  validateCommit(groupId: string, memberId: string, generationId: number): ErrorCodeValue {
    const group = this.groups.get(groupId);
    if (generationId < 0 && memberId === '') {
      return !group || group.state === 'Empty' ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (!group) return ErrorCode.ILLEGAL_GENERATION;
    if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(group, member);
    return ErrorCode.NONE;
  }

  describe(groupId: string): {
    state: GroupState;
    protocolType: string;
    protocolName: string;
    members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
  } | null {
    const group = this.groups.get(groupId);
    if (!group) return null;
    return {
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolName: group.protocolName ?? '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        metadata: m.metadataFor(group.protocolName), assignment: m.assignment,
      })),
    };
  }

  /** DeleteGroups: only a group without members can go. */
  delete(groupId: string): ErrorCodeValue {
    const group = this.groups.get(groupId);
    if (group && group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  list(): { groupId: string; protocolType: string; state: GroupState }[] {
    return [...this.groups.values()].map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
  }

  /**
   * Shutdown: stops every timer and answers members parked in JoinGroup or SyncGroup with
   * NOT_COORDINATOR, as a Kafka coordinator that moves away does, so clients look for it again.
   */
  close(): void {
    for (const group of this.groups.values()) {
      if (group.rebalanceTimer) clearTimeout(group.rebalanceTimer);
      if (group.syncTimer) clearTimeout(group.syncTimer);
      for (const m of group.members.values()) {
        if (m.sessionTimer) clearTimeout(m.sessionTimer);
        m.awaitingJoin?.({
          errorCode: ErrorCode.NOT_COORDINATOR, generationId: -1, protocolType: null, protocolName: null,
          leader: '', memberId: m.memberId, members: [],
        });
        m.awaitingJoin = null;
        this.answerSync(group, m, ErrorCode.NOT_COORDINATOR);
      }
    }
  }
}
