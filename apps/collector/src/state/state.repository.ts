import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { AgentEntity, CheckEntity, CheckStateEntity } from '../storage/entities/index.js';
import { STATE_COLUMN_NAMES, stateFromRow, type StateRow } from '../storage/check-state-row.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { secretBoxOf, type SecretBox } from '../storage/secret-box.js';
import { chunk, isPostgres, portableQuery, readerOf } from '../storage/transaction.js';
import { openAgentToken } from '../inventory/agents.repository.js';

/** Agents, their checks and the checks' current states: what the read model is built from. */
export interface StateRows {
  agents: AgentEntity[];
  checks: CheckEntity[];
  states: CheckStateEntity[];
}

/**
 * The read model's only reads: everything once at start, then one agent at a time when its
 * inventory changed (an API call, or another process such as the CLI — see
 * {@link CurrentState.reconcile}). Results never come through here: the writer hands its
 * commits over.
 */
@Injectable()
export class StateRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Looked up per use: a key rotation gives the DataSource a new box. */
  private get box(): SecretBox {
    return secretBoxOf(this.dataSource);
  }

  async loadAll(): Promise<StateRows> {
    const [agents, checks, rows] = await Promise.all([
      this.dataSource.getRepository(AgentEntity).find(),
      this.dataSource.getRepository(CheckEntity).find(),
      // Raw rows, not hydrated entities: 20,000 of them at start.
      this.dataSource.query<StateRow[]>(`SELECT ${STATE_COLUMN_NAMES.join(',')} FROM check_state`),
    ]);
    // The poller reads tokens from here: opened once per load, not per poll.
    for (const a of agents) openAgentToken(this.box, a);
    return { agents, checks, states: rows.map(stateFromRow) };
  }

  /** The agent with its checks and their states; no agent when it is gone. */
  async loadAgent(agentId: string): Promise<StateRows> {
    // Inside a config apply's transaction the refresh after each change must see that change.
    const m = readerOf(this.dataSource);
    const agent = openAgentToken(this.box, await m.getRepository(AgentEntity).findOneBy({ id: agentId }));
    if (!agent) return { agents: [], checks: [], states: [] };
    const checks = await m.getRepository(CheckEntity).findBy({ agentId });
    const rows = await m.query<StateRow[]>(
      `SELECT ${STATE_COLUMN_NAMES.map((c) => `s.${c}`).join(',')} FROM check_state s JOIN checks c ON c.id = s.check_id WHERE c.agent_id = ${isPostgres(this.dataSource) ? '$1' : '?'}`,
      [agentId],
    );
    return { agents: [agent], checks, states: rows.map(stateFromRow) };
  }

  /**
   * What is stored about `agentIds` — their id and `fields` only — and their checks' states, for
   * agents another collector polls (several collectors on one database): see StoredStateFollower,
   * which runs this every poll interval and needs neither tokens nor descriptions. Checks are not
   * re-read here; inventory changes come through {@link CurrentState.reconcile}.
   */
  async loadStored<K extends keyof AgentEntity>(
    agentIds: readonly string[],
    fields: readonly K[],
  ): Promise<{ agents: Pick<AgentEntity, 'id' | K>[]; states: CheckStateEntity[] }> {
    const agents: Pick<AgentEntity, 'id' | K>[] = [];
    const states: CheckStateEntity[] = [];
    const select = Object.fromEntries(['id', ...fields].map((f) => [f, true]));
    const m = this.dataSource.manager;
    for (const part of chunk(agentIds, 1)) {
      agents.push(...(await m.getRepository(AgentEntity).find({ select, where: { id: In(part) } })));
      const rows = await portableQuery<StateRow>(
        this.dataSource,
        m,
        `SELECT ${STATE_COLUMN_NAMES.map((c) => `s.${c}`).join(',')} FROM check_state s JOIN checks c ON c.id = s.check_id WHERE c.agent_id IN (${part.map(() => '?').join(',')})`,
        part,
      );
      states.push(...rows.map(stateFromRow));
    }
    return { agents, states };
  }
}
