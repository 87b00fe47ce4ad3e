import { randomBytes } from 'node:crypto';
import type { Logger } from '@hearth/runtime';
import { deriveCredentials } from '../auth/scram';
import type { RosterService } from '../roster/roster.service';
import type { Router } from '../router/router';
import { StreamError } from '../stream/errors';
import { Jid } from '../xml/jid';
import { AccountCreated, AccountDeleted, AccountPasswordChanged, createEvent, type Envelope } from '@hearth/contracts';
import type { AccountStore } from './account-store';

/** The producer name on the gateway's events. */
export const PRODUCER = 'gateway';

export type AccountProblem = 'invalid-jid' | 'unknown-domain' | 'exists' | 'not-found';

/** A refused account command, with a machine-readable reason the admin API maps to HTTP. */
export class AccountCommandRejected extends Error {
  override readonly name = 'AccountCommandRejected';
  constructor(readonly problem: AccountProblem, detail: string) {
    super(detail);
  }
}

/**
 * Account commands: create, change password, delete. Credentials are derived here (SCRAM for both
 * hashes) and stored; the matching event is recorded in the outbox with the change, and
 * `eventRecorded` tells the outbox relay to publish it now rather than at its next poll.
 */
export class AccountService {
  constructor(
    private readonly store: AccountStore,
    private readonly router: Router,
    private readonly roster: RosterService,
    private readonly domains: ReadonlySet<string>,
    private readonly iterations: number,
    private readonly logger: Logger,
    private readonly eventRecorded: () => void = () => undefined,
  ) {}

  /** A bare account JID on a hosted domain, or a rejection. */
  accountJid(value: string): Jid {
    const jid = Jid.parse(value);
    if (!jid || !jid.local || !jid.isBare) throw new AccountCommandRejected('invalid-jid', `"${value}" is not a bare JID with a localpart`);
    if (!this.domains.has(jid.domain)) throw new AccountCommandRejected('unknown-domain', `${jid.domain} is not hosted here`);
    return jid;
  }

  async create(value: string, password: string): Promise<Jid> {
    const jid = this.accountJid(value);
    const scram = await deriveCredentials(password, this.iterations);
    if (!(await this.store.create({ jid: jid.toString(), scram }, accountEvent(AccountCreated, jid)))) {
      throw new AccountCommandRejected('exists', `${jid} already exists`);
    }
    this.eventRecorded();
    this.logger.info({ jid: jid.toString() }, 'account created');
    return jid;
  }

  async setPassword(value: string, password: string): Promise<void> {
    const jid = this.accountJid(value);
    const scram = await deriveCredentials(password, this.iterations);
    if (!(await this.store.updateCredentials(jid.toString(), scram, accountEvent(AccountPasswordChanged, jid)))) {
      throw new AccountCommandRejected('not-found', `${jid} does not exist`);
    }
    this.eventRecorded();
    this.logger.info({ jid: jid.toString() }, 'account password changed');
  }

  async delete(value: string): Promise<void> {
    const jid = this.accountJid(value);
    if (!(await this.store.delete(jid.toString(), accountEvent(AccountDeleted, jid)))) throw new AccountCommandRejected('not-found', `${jid} does not exist`);
    this.eventRecorded();
    await this.roster.forgetAccount(jid);
    // XEP-0077 §3.2 behaviour for a removed account: its streams end with not-authorized.
    for (const session of this.router.sessions.resources(jid)) this.router.disconnect(session, new StreamError('not-authorized', 'account deleted'));
    this.logger.info({ jid: jid.toString() }, 'account deleted');
  }

  /** For token login with automatic account creation: an account without password credentials. */
  async createForToken(jid: Jid): Promise<boolean> {
    const scram = await deriveCredentials(randomPassword(), this.iterations);
    const created = await this.store.create({ jid: jid.toString(), scram }, accountEvent(AccountCreated, jid));
    if (created) {
      this.eventRecorded();
      this.logger.info({ jid: jid.toString() }, 'account created on first token login');
    }
    return true;
  }
}

type AccountContract = typeof AccountCreated | typeof AccountPasswordChanged | typeof AccountDeleted;

/** Account events are keyed by the account, so one account's events stay in order on one partition. */
function accountEvent(contract: AccountContract, jid: Jid): Envelope {
  return createEvent(contract, { account: jid.toString() }, { key: jid.toString(), producer: PRODUCER });
}

function randomPassword(): string {
  return randomBytes(32).toString('base64');
}
