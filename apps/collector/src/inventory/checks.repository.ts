import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AgentEntity, CheckEntity } from '../storage/entities/index.js';
import { newAssignmentVersion } from './agents.repository.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { committedResults } from '../storage/committed-results.js';
import { inTransaction } from '../storage/transaction.js';
import { tagsText, type Tags } from '../shared/tags.js';
import type { DependencyRef } from '../alerting/engine.js';
import { dependsOnText } from './dependencies.js';
import { appendAudit } from '../audit/audit.repository.js';
import { secretBoxOf, type SecretBox } from '../storage/secret-box.js';
import { openCheckConfig, sealCheckConfig } from './check-secrets.js';
import type { Audited } from '../audit/audit.types.js';

export interface NewCheck {
  agentId: string;
  name: string;
  plugin: string;
  /** Already validated against the plugin's schema; stored as one JSON column, its secrets sealed. */
  config: unknown;
  /** The schema that marks the config's secrets (the plugin's, built in or as its agent described it). */
  secretSchema?: unknown;
  intervalMs: number;
  timeoutMs: number;
  enabled?: boolean;
  tags?: Tags;
  /** Resolved parents (DependenciesService). */
  dependsOn?: DependencyRef[];
}

/** A check never moves to another agent: delete and re-create it instead. */
export type CheckPatch = Partial<Omit<NewCheck, 'agentId'>>;

/** What the periodic readers of every check need (/metrics, the status page, the alerting tick). */
export interface CheckSummary {
  id: string;
  agentId: string;
  name: string;
  plugin: string;
  enabled: boolean;
}

export class AgentNotFoundError extends Error {
  constructor(readonly agentId: string) {
    super(`agent ${agentId} does not exist (deleted meanwhile?) — reload the Agents page and pick an existing agent`);
    this.name = 'AgentNotFoundError';
  }
}

@Injectable()
export class ChecksRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Inserts the check and bumps its agent's assignment version in the same transaction. */
  async create(input: NewCheck, now = Date.now(), audit?: Audited<CheckEntity>): Promise<CheckEntity> {
    const check = this.dataSource.getRepository(CheckEntity).create({
      id: randomUUID(),
      agentId: input.agentId,
      name: input.name,
      plugin: input.plugin,
      configJson: sealCheckConfig(input.secretSchema, input.config, this.box),
      intervalMs: input.intervalMs,
      timeoutMs: input.timeoutMs,
      enabled: input.enabled ?? true,
      tagsJson: tagsText(input.tags ?? {}),
      dependsOnJson: dependsOnText(input.dependsOn ?? []),
      createdAt: now,
      updatedAt: now,
    });
    await inTransaction(this.dataSource, async (m) => {
      if (!(await bumpAgent(m, input.agentId))) throw new AgentNotFoundError(input.agentId);
      await m.insert(CheckEntity, check);
      if (audit) await appendAudit(m, audit(check), now);
    });
    return check;
  }

  /**
   * Every check's identity, ordered like findAll(), as raw rows: read every few seconds
   * with tens of thousands of checks, where hydrating entities blocked the event loop.
   */
  async listSummaries(): Promise<CheckSummary[]> {
    const rows = await this.dataSource.query<{ id: string; agent_id: string; name: string; plugin: string; enabled: unknown }[]>(
      'SELECT id, agent_id, name, plugin, enabled FROM checks ORDER BY name, id',
    );
    // SQLite hands booleans back as 0/1, PostgreSQL as booleans.
    return rows.map((r) => ({ id: r.id, agentId: r.agent_id, name: r.name, plugin: r.plugin, enabled: r.enabled === true || r.enabled === 1 }));
  }

  findAll(filter: { agentId?: string } = {}): Promise<CheckEntity[]> {
    return this.dataSource.getRepository(CheckEntity).find({
      where: filter.agentId === undefined ? {} : { agentId: filter.agentId },
      order: { name: 'ASC', id: 'ASC' },
    });
  }

  /** Every check of the agent, enabled or not. */
  countByAgent(agentId: string): Promise<number> {
    return this.dataSource.getRepository(CheckEntity).countBy({ agentId });
  }

  findById(id: string): Promise<CheckEntity | null> {
    return this.dataSource.getRepository(CheckEntity).findOneBy({ id });
  }

  /** What the agent should run: its enabled checks, their configs' secrets opened (the agent needs them in plaintext). */
  async findEnabledByAgent(agentId: string): Promise<CheckEntity[]> {
    const checks = await this.dataSource.getRepository(CheckEntity).find({
      where: { agentId, enabled: true },
      order: { name: 'ASC', id: 'ASC' },
    });
    for (const check of checks) check.configJson = JSON.stringify(this.openConfig(JSON.parse(check.configJson) as unknown, check.name));
    return checks;
  }

  /** A check's config (as stored, or with stored secrets restored into it) with its secrets opened: for running it, never for showing it. */
  openConfig(config: unknown, checkName: string): unknown {
    return openCheckConfig(config, this.box, checkName);
  }

  private get box(): SecretBox {
    return secretBoxOf(this.dataSource);
  }

  /** Returns the updated check, or null when there is none with this id. */
  async update(id: string, patch: CheckPatch, now = Date.now(), audit?: Audited<CheckEntity>): Promise<CheckEntity | null> {
    const { config, tags, secretSchema, dependsOn, ...rest } = patch;
    const changes: Partial<CheckEntity> = { updatedAt: now };
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) Object.assign(changes, { [key]: value });
    }
    if (config !== undefined) changes.configJson = sealCheckConfig(secretSchema, config, this.box);
    if (tags !== undefined) changes.tagsJson = tagsText(tags);
    if (dependsOn !== undefined) changes.dependsOnJson = dependsOnText(dependsOn);
    return inTransaction(this.dataSource, async (m) => {
      const existing = await m.findOne(CheckEntity, { where: { id }, select: { id: true, agentId: true } });
      if (!existing) return null;
      await bumpAgent(m, existing.agentId);
      await m.update(CheckEntity, { id }, changes);
      const updated = await m.findOneBy(CheckEntity, { id });
      if (updated && audit) await appendAudit(m, audit(updated), now);
      return updated;
    });
  }

  /** Deletes the check with its results and state (ON DELETE CASCADE). */
  async delete(id: string, audit?: Audited<void>): Promise<boolean> {
    const deleted = await inTransaction(this.dataSource, async (m) => {
      const existing = await m.findOne(CheckEntity, { where: { id }, select: { id: true, agentId: true } });
      if (!existing) return false;
      await bumpAgent(m, existing.agentId);
      await m.delete(CheckEntity, { id });
      if (audit) await appendAudit(m, audit());
      return true;
    });
    // Its results are gone: the roll-ups must not take them from memory.
    if (deleted) committedResults(this.dataSource).clear();
    return deleted;
  }
}

/**
 * Any change to an agent's checks must reach the agent: a new version makes the next poll
 * send them. Called before touching the check so that every transaction locks the agent
 * row before its checks (as the cascade from agents and the ResultWriter do); PostgreSQL
 * would otherwise be able to deadlock a check edit against a result write.
 */
async function bumpAgent(m: EntityManager, agentId: string): Promise<boolean> {
  const result = await m.update(AgentEntity, { id: agentId }, { assignmentVersion: newAssignmentVersion() });
  return (result.affected ?? 0) > 0;
}
