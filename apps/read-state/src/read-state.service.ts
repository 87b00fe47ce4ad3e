import { Inject, Injectable } from '@nestjs/common';
import { createEvent, ReadPointerMoved, topics } from '@hearth/contracts';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { READ_STATE_CONFIG, type ReadStateConfig } from './config';
import { decideMove, outcomeOf, validateMove, type ChatState, type KnownMessage, type MoveOutcome, type MoveReadPointer } from './domain/read-pointer';
import { ReadStateError } from './domain/read-state.errors';
import { ProjectionProgress } from './projection-progress';
import { PROJECTION_NAME } from './read-state.projection';
import { ReadStateLog } from './read-state-log';
import { ReadStateRepository, type UserCounts } from './read-state.repository';

export type MoveResult = MoveOutcome;

/** How often the catch-up wait re-reads the projection's checkpoints. */
const CATCH_UP_POLL_MS = 20;
const BARE_JID = /^[^@/\s]+@[^@/\s]+$/;

/** Read-state's commands and queries, shared by the gRPC and HTTP edges. */
@Injectable()
export class ReadStateService {
  constructor(
    private readonly repository: ReadStateRepository,
    private readonly log: ReadStateLog,
    private readonly progress: ProjectionProgress,
    @Inject(READ_STATE_CONFIG) private readonly config: ReadStateConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Validates the move against the projection (one query), appends ReadPointerMoved (acks -1)
   * and replies from the decision, without waiting for the projection. Read-your-writes: the
   * user's next command or query on this instance first waits until the move is applied.
   */
  async moveReadPointer(command: MoveReadPointer): Promise<MoveResult> {
    const chatKey = validateMove(command);
    await this.settled(command.user);
    const { target, state } = await this.resolveMessage(chatKey, command);
    const decision = decideMove(command, target, state.pointer);
    if (decision.kind === 'unchanged') {
      this.logger.debug({ user: command.user, peer: command.peer, stanzaId: target?.stanzaId }, 'marker not ahead of the read pointer: nothing changes');
      return outcomeOf(decision, state);
    }
    const event = createEvent(ReadPointerMoved, decision.event, { key: command.user, producer: 'read-state' });
    await this.log.publish(event);
    this.progress.track(command.user, event.id,
      async () => (await this.repository.pointerOf(command.user, command.peer)).position >= decision.event.position,
      this.config.HEARTH_READ_STATE_CATCH_UP_TIMEOUT_MS);
    return outcomeOf(decision, state);
  }

  async unreadOf(user: string): Promise<UserCounts> {
    checkBareJid('user', user);
    await this.settled(user);
    return this.repository.userCounts(user, this.config.HEARTH_READ_STATE_MAX_CHATS_PER_QUERY);
  }

  /** XEP-0490 items: `<stanza-id by=user>`, since in a 1:1 chat the user's own archive assigned the id. */
  async displayedItems(user: string, peers: readonly string[]): Promise<{ peer: string; stanzaId: string; by: string }[]> {
    checkBareJid('user', user);
    await this.settled(user);
    return (await this.repository.displayedItems(user, peers)).map((item) => ({ ...item, by: user }));
  }

  /** Waits (bounded) until this instance's earlier moves of the user are applied, so they read their writes. */
  private async settled(user: string): Promise<void> {
    if (!(await this.progress.settled(user))) {
      this.logger.warn({ user }, 'an earlier pointer move was appended but not applied in time: answering from the projection as it is');
    }
  }

  /**
   * The named message of the chat and the state the move is decided on. A client may display a
   * message before read-state consumed it (the gateway delivers once MessageAccepted is in the
   * log, not once read-state applied it): if it is unknown, wait until the projection has applied hearth.messages up to its end
   * offsets as of now — everything the client can have seen is below them — then look again.
   */
  private async resolveMessage(chatKey: string, command: MoveReadPointer): Promise<{ target?: KnownMessage; state: ChatState }> {
    const lookup = () => this.repository.moveState(chatKey, command.user, {
      ...(command.stanzaId ? { stanzaId: command.stanzaId } : { messageId: command.messageId! }), sender: command.peer });
    const known = await lookup();
    if (known.target) return known;
    this.logger.info({ user: command.user, peer: command.peer, stanzaId: command.stanzaId, messageId: command.messageId },
      'marker names a message read-state has not consumed yet; waiting for the projection to catch up');
    const ends = await this.log.endOffsets(topics.messages);
    const deadline = Date.now() + this.config.HEARTH_READ_STATE_CATCH_UP_TIMEOUT_MS;
    for (;;) {
      const applied = await this.repository.appliedOffsets(PROJECTION_NAME, topics.messages);
      if ([...ends].every(([partition, end]) => (applied.get(partition) ?? 0n) >= end)) return lookup();
      if (Date.now() > deadline) {
        throw new ReadStateError('resource-constraint', `the message is not known yet (read-state is behind hearth.messages); retry later`);
      }
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
    }
  }
}

function checkBareJid(field: string, jid: string): void {
  if (!BARE_JID.test(jid)) throw new ReadStateError('jid-malformed', `${field} must be a bare JID, got ${JSON.stringify(jid)}`);
}
