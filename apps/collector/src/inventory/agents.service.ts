import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { AgentDescription } from '#rounds/common/wire';
import { ROUNDS_VERSION } from '#rounds/common';
import type { AgentEntity, AgentState } from '../storage/entities/index.js';
import type { AGENT_SORT_KEYS, EnrolAgentDto, ListAgentsQuery, UpdateAgentDto } from './agents.dto.js';
import { matchesTag, parseTags, tagsText, type Tags } from '../shared/tags.js';
import { nameContains, type Matchers } from '../shared/dto.js';
import { AgentsRepository } from './agents.repository.js';
import { AgentCallError, AgentClientPool, type AgentEndpoint } from './agent-client.pool.js';
import type { CollectorConfig } from '../config/env.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { CurrentState } from '../state/current-state.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import type { AuditContext } from '../audit/audit.types.js';
import { DependenciesService } from './dependencies.service.js';
import { dependsOnText, parseDependsOn } from './dependencies.js';

export function endpointOf(agent: AgentEntity): AgentEndpoint {
  return { id: agent.id, name: agent.name, host: agent.host, port: agent.port, token: agent.token, fingerprint: agent.fingerprint };
}

export function descriptionOf(agent: AgentEntity): AgentDescription | undefined {
  if (!agent.descriptionJson) return undefined;
  try {
    return JSON.parse(agent.descriptionJson) as AgentDescription;
  } catch {
    return undefined;
  }
}

/** An agent as the audit log keeps it: what an operator set, never the token. */
function auditedAgent(a: AgentEntity): { id: string; name: string; host: string; port: number; fingerprint: string; tags: Tags; dependsOn: unknown } {
  return {
    id: a.id,
    name: a.name,
    host: a.host,
    port: a.port,
    fingerprint: a.fingerprint,
    tags: parseTags(a.tagsJson),
    dependsOn: parseDependsOn(a.dependsOnJson),
  };
}

/** An agent as the API shows it: never the token. */
export interface AgentView {
  id: string;
  name: string;
  host: string;
  port: number;
  fingerprint: string;
  tags: Tags;
  /** Its parents by name (`check:<agent>/<check>`, `agent:<agent>`): while one is down its AgentUnreachable alert is held. */
  dependsOn: string[];
  state: AgentState;
  lastSeenAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  ackSeq: number;
  dropped: number;
  checksInSync: boolean;
  health: unknown;
  /** What the agent said about itself when last described. */
  agent: { id: string; version: string; hostname: string; os: string; arch: string; plugins: { name: string; version: string; source: string }[] } | null;
  /** Set when the agent runs another release than this collector: which side is older, and what to do. */
  versionSkew: VersionSkew | null;
  /** Several collectors on one PostgreSQL: the one polling this agent (its ROUNDS_COLLECTOR_NAME); null on a single collector, or while none holds it. */
  polledBy: string | null;
  createdAt: number;
}

const AGENT_STATE_RANK: Record<string, number> = { DOWN: 0, UNKNOWN: 1, UP: 2 };

/** What `GET /agents?name=&tag=&state=` keeps. */
export const AGENT_FILTERS: Matchers<AgentView, ListAgentsQuery> = {
  name: (a, name) => nameContains(a.name, name),
  tag: (a, tag) => matchesTag(a.tags, tag),
  state: (a, state) => a.state === state,
};

/** The orders `GET /agents?sort=` offers (shared/dto.ts pageOf); the list itself is by name. */
export const AGENT_ORDER: Record<(typeof AGENT_SORT_KEYS)[number], (a: AgentView, b: AgentView) => number> = {
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  state: (a, b) => (AGENT_STATE_RANK[a.state] ?? 3) - (AGENT_STATE_RANK[b.state] ?? 3),
  lastSeen: (a, b) => (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0),
};

/** `a` against `b` as release numbers (1.10.0 after 1.9.2); -1, 0 or 1. Text after the numbers is ignored. */
function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (/^(\d+)\.(\d+)\.(\d+)/.exec(v) ?? [0, 0, 0, 0]).slice(1).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/**
 * Whether an agent's release differs from this collector's, in words. The wire contract only
 * grows (proto/rounds/agent/v1), so either side keeps working; what is lost is what the newer
 * side added — the older side should be updated.
 */
export function versionSkew(agentVersion: string, collectorVersion: string = ROUNDS_VERSION): VersionSkew | null {
  const order = compareVersions(agentVersion, collectorVersion);
  if (order === 0) return null;
  return order < 0
    ? {
        older: 'agent',
        message: `rounds-agent ${agentVersion} is older than this collector (${collectorVersion}): update the agent — checks and options added since may be refused there`,
      }
    : {
        older: 'collector',
        message: `rounds-agent ${agentVersion} is newer than this collector (${collectorVersion}): update the collector — what the agent added since is not used yet`,
      };
}

export interface VersionSkew {
  /** The side to update. */
  older: 'agent' | 'collector';
  message: string;
}

export interface EnrolResult extends AgentView {
  /** Set when the agent could not be reached now; it is registered anyway and polled from now on. */
  warning?: string;
}

/**
 * Registering, describing and removing agents. While the collector serves, reads come from the
 * read model and every change refreshes it; the CLI's one-shot commands have no read model and
 * read the database.
 */
@Injectable()
export class AgentsService {
  private readonly log = new Logger('Agents');

  constructor(
    private readonly agents: AgentsRepository,
    private readonly pool: AgentClientPool,
    private readonly dependencies: DependenciesService,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Optional() private readonly state?: CurrentState,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {}

  async listViews(): Promise<AgentView[]> {
    const agents = this.state ? this.state.listAgents().map((r) => r.agent) : await this.agents.findAll();
    return agents.map((a) => this.view(a));
  }

  async getView(idOrName: string): Promise<AgentView> {
    return this.view(await this.get(idOrName));
  }

  async get(idOrName: string): Promise<AgentEntity> {
    // Not in the read model: perhaps enrolled on another collector a moment ago (several share
    // PostgreSQL; the read model takes their changes in every few seconds) — the database knows.
    const agent = this.state?.findAgent(idOrName)?.agent ?? (await this.agents.findById(idOrName)) ?? (await this.agents.findByName(idOrName));
    if (!agent) throw new NotFoundError(`no agent with id or name "${idOrName}"`);
    return agent;
  }

  /** The agent's Describe answer as stored, its plugins' config schemas included (the read model keeps it without them). */
  async storedDescription(idOrName: string): Promise<AgentDescription | undefined> {
    const agent = await this.get(idOrName);
    return descriptionOf((await this.agents.findById(agent.id)) ?? agent);
  }

  /**
   * Registers an agent from its enrolment string. The agent is contacted first: a
   * certificate that does not match the pinned fingerprint or a refused token stops
   * the enrolment; an agent that is merely unreachable is registered with a warning.
   */
  async enrol({ name, enrol: parsed, tags }: EnrolAgentDto, context: AuditContext): Promise<EnrolResult> {
    if (await this.agents.findByName(name)) throw new ConflictError(`an agent named "${name}" already exists — pick another name or remove it first`, 'name');
    const probe: AgentEndpoint = { id: `enrol:${name}`, name, ...parsed };
    let description: AgentDescription | undefined;
    let warning: string | undefined;
    try {
      description = await this.pool.describe(probe, this.config.pollTimeoutMs);
    } catch (e) {
      const err = e as AgentCallError;
      if (err.code === 'certificate' || err.code === 'unauthenticated') {
        throw new ValidationFailedError('agent refused', [{ field: 'enrol', message: err.message }]);
      }
      warning = `${err.message}; registered anyway — it will be polled and shown DOWN until it answers`;
    } finally {
      this.pool.drop(probe.id);
    }
    const agent = await this.agents.create(
      { name, host: parsed.host, port: parsed.port, token: parsed.token, fingerprint: parsed.fingerprint, tagsJson: tagsText(tags) },
      Date.now(),
      (created) => ({
        context,
        action: 'agent.enrol',
        target: { kind: 'agent', id: created.id, name: created.name },
        before: null,
        after: auditedAgent(created),
      }),
    );
    if (description) await this.agents.update(agent.id, { descriptionJson: JSON.stringify(description) });
    await this.state?.refreshAgent(agent.id);
    this.log.log(`enrolled agent ${name} at ${parsed.host}:${parsed.port}${warning ? ` (${warning})` : ''}`);
    return { ...this.view((await this.agents.findById(agent.id)) ?? agent), ...(warning ? { warning } : {}) };
  }

  /** Changes what an operator may change on an enrolled agent (its tags); every check of it carries them. */
  async update(idOrName: string, dto: UpdateAgentDto, context: AuditContext): Promise<AgentView> {
    const agent = await this.get(idOrName);
    const dependsOn =
      dto.dependsOn === undefined
        ? undefined
        : await this.dependencies.mustResolve(dto.dependsOn, 'invalid agent', { ref: { kind: 'agent', id: agent.id }, agentId: null });
    const patch = {
      ...(dto.tags === undefined ? {} : { tagsJson: tagsText(dto.tags) }),
      ...(dependsOn === undefined ? {} : { dependsOnJson: dependsOnText(dependsOn) }),
    };
    const updated = await this.agents.update(agent.id, patch, Date.now(), (after) => ({
      context,
      action: 'agent.update',
      target: { kind: 'agent', id: agent.id, name: agent.name },
      before: auditedAgent(agent),
      after: auditedAgent(after),
    }));
    if (!updated) throw new NotFoundError(`no agent with id or name "${idOrName}"`);
    await this.state?.refreshAgent(agent.id);
    return this.view(updated);
  }

  /**
   * Gives the agent a new bearer token: a fresh one is made here, the agent is asked (with the
   * current token) to accept its SHA-256 beside the current one and writes it to its config file,
   * then the new token is stored sealed in place of the old, and a first call with it makes it the
   * agent's only token. An agent that cannot be reached or refuses keeps its token, and so does
   * this side. Audited as `agent.rotate-token` (never with a token).
   */
  async rotateToken(idOrName: string, context: AuditContext): Promise<AgentView & { warning?: string }> {
    const agent = await this.get(idOrName);
    const token = randomBytes(32).toString('base64url');
    try {
      await this.pool.rotateToken(endpointOf(agent), createHash('sha256').update(token).digest('hex'), this.config.pollTimeoutMs);
    } catch (e) {
      throw new ConflictError(`${(e as Error).message} — the token was not changed; try again once the agent answers`);
    }
    const updated = await this.agents.update(agent.id, { token }, Date.now(), () => ({
      context,
      action: 'agent.rotate-token',
      target: { kind: 'agent', id: agent.id, name: agent.name },
      before: null,
      after: null,
    }));
    if (!updated) throw new NotFoundError(`agent "${agent.name}" was removed while its token was rotated`);
    // The read model hands the agent (token included) to "check now" and "test now".
    await this.state?.refreshAgent(agent.id);
    let warning: string | undefined;
    try {
      // The first call with the new token retires the old one on the agent.
      await this.pool.describe(endpointOf(updated), this.config.pollTimeoutMs);
    } catch (e) {
      warning = `${(e as Error).message}; the agent accepts both tokens until the next poll presents the new one`;
    }
    this.log.log(`rotated the token of agent ${agent.name}${warning ? ` (${warning})` : ''}`);
    return { ...this.view(updated), ...(warning ? { warning } : {}) };
  }

  /** Removes the agent with its checks, results and states. */
  async remove(idOrName: string, context: AuditContext): Promise<void> {
    const agent = await this.get(idOrName);
    await this.agents.delete(agent.id, () => ({
      context,
      action: 'agent.remove',
      target: { kind: 'agent', id: agent.id, name: agent.name },
      before: auditedAgent(agent),
      after: null,
    }));
    await this.state?.refreshAgent(agent.id);
    this.pool.drop(agent.id);
    this.log.log(`removed agent ${agent.name}`);
  }

  view(a: AgentEntity): AgentView {
    const d = descriptionOf(a);
    return {
      id: a.id,
      name: a.name,
      host: a.host,
      port: a.port,
      fingerprint: a.fingerprint,
      tags: parseTags(a.tagsJson),
      dependsOn: this.dependencies.names(a.dependsOnJson),
      state: a.state,
      lastSeenAt: a.lastSeenAt,
      lastError: a.lastError,
      consecutiveFailures: a.consecutiveFailures,
      ackSeq: a.ackSeq,
      dropped: a.dropped,
      checksInSync: a.agentAssignmentVersion === a.assignmentVersion,
      health: a.healthJson ? (JSON.parse(a.healthJson) as unknown) : null,
      agent: d
        ? {
            id: d.agentId,
            version: d.version,
            hostname: d.hostname,
            os: d.os,
            arch: d.arch,
            plugins: d.plugins.map((p) => ({ name: p.name, version: p.version, source: p.source })),
          }
        : null,
      versionSkew: d ? versionSkew(d.version) : null,
      polledBy: this.cluster.pollerOf?.(a.id) ?? null,
      createdAt: a.createdAt,
    };
  }

  /** Asks the agent who it is and what it can run, and keeps the answer. */
  async refreshDescription(agent: AgentEntity): Promise<AgentDescription> {
    const description = await this.pool.describe(endpointOf(agent), this.config.pollTimeoutMs);
    const descriptionJson = JSON.stringify(description);
    await this.agents.update(agent.id, { descriptionJson });
    this.state?.agentPolled(agent.id, { descriptionJson });
    return description;
  }
}
