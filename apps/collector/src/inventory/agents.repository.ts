import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AgentEntity, type AgentState } from '../storage/entities/index.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { secretBoxOf, type SecretBox } from '../storage/secret-box.js';
import { forUpdate, inTransaction, isPostgres } from '../storage/transaction.js';
import { currentLeases, fenced, type LeaseClaim } from '../cluster/lease-fence.js';
import { committedResults } from '../storage/committed-results.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { Audited } from '../audit/audit.types.js';

export interface NewAgent {
  name: string;
  host: string;
  port: number;
  token: string;
  fingerprint: string;
  /** `{key: value}` as stored (shared/tags.ts `tagsText`). */
  tagsJson?: string;
  /** `[{kind, id}]` as stored (inventory/dependencies.ts `dependsOnText`). */
  dependsOnJson?: string;
}

/** Fields an operator may edit; poll bookkeeping has its own methods below. */
export type AgentPatch = Partial<NewAgent & { descriptionJson: string | null }>;

export interface PollSuccess {
  at: number;
  /** Only when this poll itself decided the ack (no results to store); never moves it back. */
  ackSeq?: number;
  spoolEpoch: string;
  agentAssignmentVersion: string;
  dropped: number;
  health: unknown;
}

/** The agent columns a poll writes. */
export type PolledAgentFields = Pick<
  AgentEntity,
  'state' | 'lastSeenAt' | 'lastError' | 'consecutiveFailures' | 'ackSeq' | 'spoolEpoch' | 'agentAssignmentVersion' | 'dropped' | 'healthJson'
>;

export interface PollFailure {
  at: number;
  error: string;
  /** Failed polls in a row after which the agent counts as DOWN. */
  downAfter: number;
}

/** A fresh opaque version; only equality matters, so random beats a counter that two writers could reuse. */
export function newAssignmentVersion(): string {
  return randomUUID();
}

const LEAN_COLUMNS = {
  id: true,
  name: true,
  host: true,
  port: true,
  token: true,
  fingerprint: true,
  state: true,
  lastSeenAt: true,
  lastError: true,
  consecutiveFailures: true,
  ackSeq: true,
  spoolEpoch: true,
  assignmentVersion: true,
  agentAssignmentVersion: true,
  dropped: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** What a person reads when an agent's stored token cannot be opened. */
export function agentTokenLabel(agent: Pick<AgentEntity, 'name'>): string {
  return `the token of agent "${agent.name}"`;
}

/** The token sealed for storage and opened on the way out (secret-box.ts): callers see plaintext, the table never holds it. */
export function openAgentToken<T extends Pick<AgentEntity, 'name' | 'token'> | null>(box: SecretBox, agent: T): T {
  if (agent !== null && typeof agent.token === 'string') agent.token = box.open(agent.token, agentTokenLabel(agent));
  return agent;
}

@Injectable()
export class AgentsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Looked up per use: a key rotation gives the DataSource a new box. */
  private get box(): SecretBox {
    return secretBoxOf(this.dataSource);
  }

  /**
   * `audit`: the audit row, appended in the same transaction; `within`: more of the same change
   * (a site-key enrolment marks its row done), in that transaction too.
   */
  async create(
    input: NewAgent,
    now = Date.now(),
    audit?: Audited<AgentEntity>,
    within?: (m: EntityManager, agent: AgentEntity) => Promise<void>,
  ): Promise<AgentEntity> {
    const agent = this.dataSource.getRepository(AgentEntity).create({
      ...input,
      id: randomUUID(),
      state: 'UNKNOWN',
      lastSeenAt: null,
      lastError: null,
      consecutiveFailures: 0,
      ackSeq: 0,
      spoolEpoch: '',
      assignmentVersion: newAssignmentVersion(),
      agentAssignmentVersion: '',
      descriptionJson: null,
      dropped: 0,
      healthJson: null,
      createdAt: now,
      updatedAt: now,
    });
    const sealed = { ...agent, token: this.box.seal(agent.token) };
    await inTransaction(this.dataSource, async (m) => {
      await m.insert(AgentEntity, sealed);
      if (within) await within(m, agent);
      if (audit) await appendAudit(m, audit(agent), now);
    });
    return agent;
  }

  async findAll(): Promise<AgentEntity[]> {
    return this.openAll(await this.dataSource.getRepository(AgentEntity).find({ order: { name: 'ASC' } }));
  }

  /**
   * Ids and assignment versions only: the poller's agent sync runs every few seconds over every
   * agent, and a changed version tells the read model that another process changed its checks.
   */
  async listVersions(): Promise<{ id: string; assignmentVersion: string }[]> {
    return this.dataSource.getRepository(AgentEntity).find({ select: { id: true, assignmentVersion: true }, order: { id: 'ASC' } });
  }

  /**
   * The agent without its Describe answer and health blobs (tens of KiB each), which
   * the poll path never reads: loading them on every poll dominated the collector's CPU
   * with thousands of agents (bench: scale).
   */
  async findForPoll(id: string): Promise<AgentEntity | null> {
    return openAgentToken(this.box, await this.dataSource.getRepository(AgentEntity).findOne({ where: { id }, select: LEAN_COLUMNS }));
  }

  /** Every agent with its health but without its Describe answer (metrics, status page). */
  async findAllLean(): Promise<AgentEntity[]> {
    return this.openAll(await this.dataSource.getRepository(AgentEntity).find({ select: { ...LEAN_COLUMNS, healthJson: true }, order: { name: 'ASC' } }));
  }

  async findById(id: string): Promise<AgentEntity | null> {
    return openAgentToken(this.box, await this.dataSource.getRepository(AgentEntity).findOneBy({ id }));
  }

  async findByName(name: string): Promise<AgentEntity | null> {
    return openAgentToken(this.box, await this.dataSource.getRepository(AgentEntity).findOneBy({ name }));
  }

  private openAll(agents: AgentEntity[]): AgentEntity[] {
    for (const a of agents) openAgentToken(this.box, a);
    return agents;
  }

  /** Returns the updated agent, or null when there is none with this id; `audit` is appended in the same transaction. */
  async update(id: string, patch: AgentPatch, now = Date.now(), audit?: Audited<AgentEntity>): Promise<AgentEntity | null> {
    const changes = definedOnly(patch);
    if (changes.token !== undefined) changes.token = this.box.seal(changes.token);
    const updated = await inTransaction(this.dataSource, async (m) => {
      const result = await m.update(AgentEntity, { id }, { ...changes, updatedAt: now });
      if (!result.affected) return false;
      if (audit) await appendAudit(m, audit(openAgentToken(this.box, (await m.findOneBy(AgentEntity, { id }))!)), now);
      return true;
    });
    return updated ? this.findById(id) : null;
  }

  /** Deletes the agent with its checks, results and states (ON DELETE CASCADE). */
  async delete(id: string, audit?: Audited<void>): Promise<boolean> {
    const deleted = await inTransaction(this.dataSource, async (m) => {
      const result = await m.delete(AgentEntity, { id });
      if (!result.affected) return false;
      if (audit) await appendAudit(m, audit());
      return true;
    });
    // Its results are gone: the roll-ups must not take them from memory.
    if (deleted) committedResults(this.dataSource).clear();
    return deleted;
  }

  /** Returns what it wrote (null when the agent is gone). */
  async recordPollSuccess(id: string, poll: PollSuccess, lease?: LeaseClaim): Promise<PolledAgentFields | null> {
    return inTransaction(this.dataSource, async (m) => {
      const current = await forUpdate(
        this.dataSource,
        m.createQueryBuilder(AgentEntity, 'a').select(['a.id', 'a.ackSeq', 'a.spoolEpoch']).where('a.id = :id', { id }),
      ).getOne();
      if (!current || (await this.leaseLost(m, id, lease))) return null;
      // A new spool epoch means the agent's sequence numbers started over: the old ack means nothing.
      const sameEpoch = current.spoolEpoch === poll.spoolEpoch;
      const base = sameEpoch ? current.ackSeq : 0;
      const ackSeq = poll.ackSeq === undefined ? base : Math.max(base, poll.ackSeq);
      const fields: PolledAgentFields = {
        state: 'UP',
        lastSeenAt: poll.at,
        lastError: null,
        consecutiveFailures: 0,
        ackSeq,
        spoolEpoch: poll.spoolEpoch,
        agentAssignmentVersion: poll.agentAssignmentVersion,
        dropped: poll.dropped,
        healthJson: JSON.stringify(poll.health ?? null),
      };
      await m.update(AgentEntity, { id }, fields);
      return fields;
    });
  }

  /** Counts the failure and returns what it wrote (null when the agent is gone). */
  async recordPollFailure(
    id: string,
    failure: PollFailure,
    lease?: LeaseClaim,
  ): Promise<Pick<PolledAgentFields, 'state' | 'consecutiveFailures' | 'lastError'> | null> {
    return inTransaction(this.dataSource, async (m) => {
      const current = await forUpdate(
        this.dataSource,
        m.createQueryBuilder(AgentEntity, 'a').select(['a.id', 'a.state', 'a.consecutiveFailures']).where('a.id = :id', { id }),
      ).getOne();
      if (!current || (await this.leaseLost(m, id, lease))) return null;
      const consecutiveFailures = current.consecutiveFailures + 1;
      const state: AgentState = consecutiveFailures >= failure.downAfter ? 'DOWN' : current.state;
      // last_seen_at is deliberately left alone: it says when the agent last answered.
      const fields = { state, consecutiveFailures, lastError: failure.error };
      await m.update(AgentEntity, { id }, fields);
      return fields;
    });
  }

  /**
   * Whether the poll's lease is no longer the agent's (PostgreSQL, several collectors): then its
   * outcome is the new holder's to record, not this collector's.
   */
  private async leaseLost(m: EntityManager, agentId: string, lease: LeaseClaim | undefined): Promise<boolean> {
    if (!lease || !isPostgres(this.dataSource)) return false;
    return fenced(agentId, lease, await currentLeases(m, [agentId])) !== null;
  }

  /** Makes the next poll send the agent its full check set. Returns the new version. */
  async bumpAssignmentVersion(agentId: string): Promise<string> {
    const version = newAssignmentVersion();
    await inTransaction(this.dataSource, (m) => m.update(AgentEntity, { id: agentId }, { assignmentVersion: version }));
    return version;
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
