import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  CHECK_STATUSES,
  REDACTED,
  boundResult,
  formatInterval,
  redactSecrets,
  restoreRedacted,
  statusFromProto,
  timeoutBeyondInterval,
  type CheckStatus,
  type Clock,
} from '#rounds/common';
import { describedConfigValidator, PluginRegistry, type FieldError, type Validation } from '#rounds/plugins';
import type { AgentEntity, CheckEntity } from '../storage/entities/index.js';
import { ChecksRepository } from './checks.repository.js';
import { DependenciesService } from './dependencies.service.js';
import { AgentCallError, AgentClientPool } from './agent-client.pool.js';
import type { CollectorConfig } from '../config/env.js';
import { AgentsService, descriptionOf, endpointOf } from './agents.service.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { CLOCK, COLLECTOR_CONFIG, PLUGIN_REGISTRY } from '../shared/tokens.js';
import { CurrentState } from '../state/current-state.js';
import type { StoredMetric } from '../polling/result-writer.js';
import type { AgentState } from '../storage/entities/index.js';
import type { CHECK_SORT_KEYS, CreateCheckDto, ListChecksQuery, UpdateCheckDto } from './checks.dto.js';
import { nameContains, type Matchers } from '../shared/dto.js';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';
import { matchesTag, parseTags, type TagSelector, type Tags } from '../shared/tags.js';

export interface CheckView {
  id: string;
  agentId: string;
  name: string;
  plugin: string;
  /** Secrets redacted. */
  config: unknown;
  intervalMs: number;
  timeoutMs: number;
  enabled: boolean;
  /** The check's own tags. */
  tags: Tags;
  /** Its parents by name (`check:<agent>/<check>`, `agent:<agent>`): while one is down its alerts are held. */
  dependsOn: string[];
  /** What the check carries: its agent's tags with its own over them. */
  effectiveTags: Tags;
  createdAt: number;
  updatedAt: number;
}

/** A check's current state as the API shows it; stale when it says nothing about now (its agent is not UP, or results are overdue). */
export interface CheckStateView {
  status: CheckStatus;
  reason: string;
  summary: string;
  lastResultAt: number | null;
  lastOkAt: number | null;
  lastChangeAt: number | null;
  consecutiveFailures: number;
  lastDurationMs: number | null;
  metrics: StoredMetric[];
  stale: boolean;
  /** ms since the latest result started. */
  ageMs: number | null;
  agentState: AgentState;
}

/** What running a check once gave (not stored). */
export interface RunResult {
  status: CheckStatus;
  reason: string;
  summary: string;
  durationMs: number;
  startedAt: number;
  metrics: readonly StoredMetric[];
}

/** A plugin a check may use, with the JSON Schema of its config. */
export interface PluginForm {
  name: string;
  description: string;
  schema: unknown;
}

/** Worst first: what needs someone comes to the top of a list sorted by state. */
const STATE_RANK: Record<string, number> = { CRITICAL: 0, WARNING: 1, UNKNOWN: 2, OK: 3 };
const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The orders `GET /checks?sort=` offers (shared/dto.ts pageOf); `agent` is the list's own order (agent, then name), and ties keep it. */
export const CHECK_ORDER: Record<(typeof CHECK_SORT_KEYS)[number], (a: CheckWithStateView, b: CheckWithStateView) => number> = {
  agent: () => 0,
  name: (a, b) => text(a.name, b.name),
  plugin: (a, b) => text(a.plugin, b.plugin),
  state: (a, b) => (STATE_RANK[a.state?.status ?? ''] ?? 4) - (STATE_RANK[b.state?.status ?? ''] ?? 4),
  lastResult: (a, b) => (a.state?.lastResultAt ?? 0) - (b.state?.lastResultAt ?? 0),
};

/** What `GET /checks?name=&plugin=&state=&enabled=` keeps (`agent` and `tag` are listViews' own). */
export const CHECK_FILTERS: Matchers<CheckWithStateView, ListChecksQuery> = {
  name: (c, name) => nameContains(c.name, name),
  plugin: (c, plugin) => c.plugin === plugin,
  state: (c, state) => (c.state?.status ?? 'PENDING') === state,
  enabled: (c, enabled) => c.enabled === (enabled === 'true'),
};

/** A check with its current state: what the API lists. */
export interface CheckWithStateView extends CheckView {
  state: CheckStateView | null;
}

/**
 * Check definitions: validated against the plugin's schema before anything is saved. While the
 * collector serves, reads come from the read model and every change refreshes it; the CLI's
 * one-shot commands have no read model and read the database.
 */
@Injectable()
export class ChecksService {
  private readonly describedValidators = new Map<string, (config: unknown) => Validation<unknown>>();

  constructor(
    private readonly checks: ChecksRepository,
    private readonly agents: AgentsService,
    private readonly dependencies: DependenciesService,
    private readonly pool: AgentClientPool,
    @Inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() private readonly state?: CurrentState,
  ) {}

  /** Every check (of one agent when `agent` names one, with a tag when `tag` selects one) with its current state. */
  async listViews(agent?: string, tag?: TagSelector): Promise<CheckWithStateView[]> {
    const agentId = agent === undefined ? undefined : (await this.agents.get(agent)).id;
    const checks = this.state ? this.state.listChecks(agentId).map((r) => r.check) : await this.checks.findAll(agentId === undefined ? undefined : { agentId });
    return checks.map((c) => ({ ...this.view(c), state: this.stateView(c.id) })).filter((v) => tag === undefined || matchesTag(v.effectiveTags, tag));
  }

  async getView(id: string): Promise<CheckWithStateView> {
    const check = await this.get(id);
    return { ...this.view(check), state: this.stateView(check.id) };
  }

  async get(id: string): Promise<CheckEntity> {
    const check = this.state ? this.state.check(id)?.check : await this.checks.findById(id);
    if (!check) throw new NotFoundError(`no check with id "${id}"`);
    return check;
  }

  async create(dto: CreateCheckDto, context: AuditContext): Promise<CheckView> {
    // Every rule's error in one answer, the plugin config's included, so one round trip shows everything.
    const errors: FieldError[] = [];
    const floor = this.intervalFloor(dto.intervalMs);
    if (floor) errors.push(floor);
    const timing = timeoutBeyondInterval(dto.timeoutMs, dto.intervalMs);
    if (timing) errors.push({ field: 'timeoutMs', message: timing });
    const agent = await this.agents.get(dto.agent).catch((e: unknown) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!agent) errors.push({ field: 'agent', message: `no agent with id or name "${dto.agent}"` });
    errors.push(...(await this.configErrors(dto.plugin, dto.config, agent)));
    const { parents, errors: dependencyErrors } = await this.dependencies.resolve(dto.dependsOn);
    errors.push(...dependencyErrors);
    if (errors.length > 0 || !agent) throw new ValidationFailedError('invalid check', errors);
    await this.mustBeFreeName(agent.id, dto.name);
    await this.mustHaveRoom(agent);
    const secretSchema = this.schemaOf({ plugin: dto.plugin, agentId: agent.id });
    const created = await this.checks.create({ ...dto, dependsOn: parents, agentId: agent.id, secretSchema }, Date.now(), (check) =>
      this.audit(context, 'check.create', check, null, check),
    );
    await this.state?.refreshAgent(agent.id);
    return this.view(created);
  }

  async update(id: string, dto: UpdateCheckDto, context: AuditContext): Promise<CheckView> {
    const existing = await this.get(id);
    const floor = dto.intervalMs === undefined ? undefined : this.intervalFloor(dto.intervalMs);
    if (floor) throw new ValidationFailedError('invalid check', [floor]);
    const patch = { ...dto };
    const timing = timeoutBeyondInterval(patch.timeoutMs ?? existing.timeoutMs, patch.intervalMs ?? existing.intervalMs);
    // Named after the field the PATCH changed: the stored one is not what the caller got wrong.
    if (timing) throw new ValidationFailedError('invalid check', [{ field: patch.timeoutMs === undefined ? 'intervalMs' : 'timeoutMs', message: timing }]);
    if (patch.config) {
      // A form or script echoing back the redacted view keeps the stored secrets.
      patch.config = restoreRedacted(this.schemaOf(existing), patch.config, JSON.parse(existing.configJson)) as Record<string, unknown>;
      const agent = await this.agents.get(existing.agentId);
      await this.validateConfig(existing.plugin, patch.config, agent);
    }
    if (patch.name !== undefined && patch.name !== existing.name) await this.mustBeFreeName(existing.agentId, patch.name, id);
    const dependsOn =
      dto.dependsOn === undefined
        ? undefined
        : await this.dependencies.mustResolve(dto.dependsOn, 'invalid check', { ref: { kind: 'check', id }, agentId: existing.agentId });
    const updated = await this.checks.update(id, { ...patch, dependsOn, secretSchema: this.schemaOf(existing) }, Date.now(), (check) =>
      this.audit(context, 'check.update', check, existing, check),
    );
    if (!updated) throw new NotFoundError(`no check with id "${id}"`);
    await this.state?.refreshAgent(updated.agentId);
    return this.view(updated);
  }

  /** The collector's floor under intervals (ROUNDS_MIN_CHECK_INTERVAL_MS), as an error on intervalMs. */
  private intervalFloor(intervalMs: number): FieldError | undefined {
    const min = this.config.minCheckIntervalMs;
    if (intervalMs >= min) return undefined;
    return {
      field: 'intervalMs',
      message: `interval ${formatInterval(intervalMs)} is below the minimum of ${formatInterval(min)} — set ROUNDS_MIN_CHECK_INTERVAL_MS on the collector to allow shorter intervals`,
    };
  }

  /** Disabled checks count too: enabling one must not take an agent past the limit. */
  private async mustHaveRoom(agent: AgentEntity): Promise<void> {
    const count = await this.checks.countByAgent(agent.id);
    if (count < this.config.maxChecksPerAgent) return;
    throw new ValidationFailedError('invalid check', [
      {
        field: 'agent',
        message:
          `agent ${agent.name} has ${count} check${count === 1 ? '' : 's'}, the most one agent may have is ${this.config.maxChecksPerAgent} — ` +
          'set ROUNDS_MAX_CHECKS_PER_AGENT on the collector to allow more, or add the check to another agent',
      },
    ]);
  }

  /** Check names are unique per agent (the database says so too, for races: see ApiErrorFilter). */
  private async mustBeFreeName(agentId: string, name: string, exceptId?: string): Promise<void> {
    if ((await this.checks.findAll({ agentId })).some((c) => c.name === name && c.id !== exceptId)) {
      const agent = await this.agents.get(agentId);
      throw new ConflictError(`agent ${agent.name} already has a check named "${name}" — choose another name`, 'name');
    }
  }

  async remove(id: string, context: AuditContext): Promise<void> {
    const check = await this.get(id);
    if (!(await this.checks.delete(id, () => this.audit(context, 'check.delete', check, check, null)))) throw new NotFoundError(`no check with id "${id}"`);
    await this.state?.refreshAgent(check.agentId);
  }

  /** Runs the check on its agent now and returns the result (not stored). */
  async runNow(id: string): Promise<RunResult> {
    const check = await this.get(id);
    return this.runOn(await this.agents.get(check.agentId), { ...check, config: JSON.parse(check.configJson) as Record<string, unknown> });
  }

  /**
   * Runs a config that is not saved (yet) on an agent — "test now" in the check form: checked
   * against the plugin's schema first, like a save. With `existingId`, secrets sent back as the
   * redacted placeholder are the stored check's.
   */
  async testRun(
    spec: { agent: string; plugin: string; config: Record<string, unknown>; intervalMs: number; timeoutMs: number },
    existingId?: string,
  ): Promise<RunResult> {
    const agent = await this.agents.get(spec.agent);
    let config = spec.config;
    if (existingId !== undefined) {
      const existing = await this.get(existingId);
      config = restoreRedacted(this.schemaOf(existing), config, JSON.parse(existing.configJson)) as Record<string, unknown>;
    }
    await this.validateConfig(spec.plugin, config, agent);
    // A fresh id: the agent keeps no state between runs of a check it does not know.
    return this.runOn(agent, { id: `test-${randomUUID()}`, plugin: spec.plugin, config, intervalMs: spec.intervalMs, timeoutMs: spec.timeoutMs });
  }

  private async runOn(
    agent: AgentEntity,
    check: { id: string; name?: string; plugin: string; config: Record<string, unknown>; intervalMs: number; timeoutMs: number },
  ): Promise<RunResult> {
    // Stored secrets (sealed at rest) go to the agent in plaintext, as the poller sends them.
    const configJson = JSON.stringify(this.checks.openConfig(check.config, check.name ?? check.plugin));
    try {
      const answer = await this.pool.runCheck(
        endpointOf(agent),
        { check: { id: check.id, plugin: check.plugin, configJson, intervalMs: check.intervalMs, timeoutMs: check.timeoutMs } },
        check.timeoutMs + this.config.pollTimeoutMs,
      );
      const r = boundResult(answer).result;
      return {
        status: statusFromProto(r.status),
        reason: r.reason,
        summary: r.summary,
        durationMs: r.durationMs,
        startedAt: r.startedAtMs,
        metrics: r.metrics,
      };
    } catch (e) {
      if (e instanceof AgentCallError) throw new ConflictError(e.message);
      throw e;
    }
  }

  /**
   * The plugins a check on this agent may use, each with the JSON Schema of its config (the
   * check form is made from it): those the agent described — a built-in's schema from this
   * collector's registry, a custom one's as the agent sent it — or every built-in before the
   * agent was first described.
   */
  async pluginsFor(agentIdOrName: string): Promise<PluginForm[]> {
    // As stored: a custom plugin's form is made from the schema its agent sent.
    const described = (await this.agents.storedDescription(agentIdOrName))?.plugins;
    if (!described)
      return this.registry
        .names()
        .map((name) => ({ name, description: this.registry.get(name)!.plugin.description, schema: this.registry.get(name)!.jsonSchema }));
    return described.map((p) => {
      const builtIn = this.registry.get(p.name);
      let schema: unknown = builtIn?.jsonSchema;
      if (!schema) {
        try {
          schema = JSON.parse(p.configSchemaJson) as unknown;
        } catch {
          schema = {};
        }
      }
      return { name: p.name, description: p.description, schema };
    });
  }

  /** The check's current state from the read model (null before its first result, or without a read model). */
  stateView(checkId: string): CheckStateView | null {
    const record = this.state?.check(checkId);
    const s = record?.state;
    if (!record || !s || s.lastResultAt === null) return null;
    const freshness = this.state!.freshness(record, this.clock.now());
    return {
      status: CHECK_STATUSES[s.status],
      reason: s.reason,
      summary: s.summary,
      lastResultAt: s.lastResultAt,
      lastOkAt: s.lastOkAt,
      lastChangeAt: s.lastChangeAt,
      consecutiveFailures: s.consecutiveFailures,
      lastDurationMs: s.lastDurationMs,
      metrics: record.metrics,
      ...freshness,
    };
  }

  private audit(context: AuditContext, action: AuditDraft['action'], target: CheckEntity, before: CheckEntity | null, after: CheckEntity | null): AuditDraft {
    return {
      context,
      action,
      target: { kind: 'check', id: target.id, name: target.name },
      before: before && this.audited(before),
      after: after && this.audited(after),
    };
  }

  /**
   * The check as the audit log keeps it: the view without its timestamps. A custom plugin's
   * secrets are marked in a schema only its agent has, so its whole config is left out: the
   * log is append-only, and a secret in it could never be taken out again.
   */
  private audited(check: CheckEntity): Omit<CheckView, 'createdAt' | 'updatedAt' | 'effectiveTags'> {
    const { createdAt: _created, updatedAt: _updated, effectiveTags: _effective, ...view } = this.view(check);
    return this.registry.get(check.plugin) ? view : { ...view, config: REDACTED };
  }

  /**
   * The schema that says which of a check's config fields are secret: the built-in plugin's, or
   * the one its agent described for a custom plugin (kept by the read model when it has secrets).
   */
  schemaOf(check: Pick<CheckEntity, 'plugin' | 'agentId'>): unknown {
    return this.registry.get(check.plugin)?.jsonSchema ?? this.state?.secretSchema(check.agentId, check.plugin);
  }

  /** The check's config with its secrets in plaintext: for a config export that asked for them, never for a view. */
  plainConfig(check: CheckEntity): unknown {
    return this.checks.openConfig(JSON.parse(check.configJson) as unknown, check.name);
  }

  /** The check as shown to people: secrets replaced by a placeholder. */
  view(check: CheckEntity): CheckView {
    const config = JSON.parse(check.configJson) as unknown;
    const schema = this.schemaOf(check);
    return {
      id: check.id,
      agentId: check.agentId,
      name: check.name,
      plugin: check.plugin,
      config: redactSecrets(schema, config),
      intervalMs: check.intervalMs,
      timeoutMs: check.timeoutMs,
      enabled: check.enabled,
      tags: parseTags(check.tagsJson),
      dependsOn: this.dependencies.names(check.dependsOnJson),
      // Without a read model (the CLI's one-shot commands) the agent's tags are not at hand.
      effectiveTags: this.state?.tagsOf(check) ?? parseTags(check.tagsJson),
      createdAt: check.createdAt,
      updatedAt: check.updatedAt,
    };
  }

  /**
   * A config's errors against what its agent runs. Once the agent has described itself, a plugin
   * it lacks is refused (a built-in one too: an agent older than the plugin names the update); a
   * built-in plugin is validated with its own schema (its exact messages), a custom one against the
   * JSON Schema its agent reported. An agent not described yet (unreachable since enrolment) is
   * taken at its word for the built-ins, and the agent's refusal, if any, shows on the check.
   */
  async configErrors(plugin: string, config: unknown, agent: AgentEntity | undefined): Promise<FieldError[]> {
    const described = agent ? descriptionOf(agent) : undefined;
    const builtin = this.registry.get(plugin);
    const offered = described?.plugins.find((p) => p.name === plugin);
    if (described && !offered) {
      const has = described.plugins.map((p) => p.name).sort();
      const why = builtin ? ` — it runs rounds-agent ${described.version}, older than this plugin: update it` : '';
      return [{ field: 'plugin', message: `agent ${agent!.name} has no plugin "${plugin}" (it has: ${has.join(', ')})${why}` }];
    }
    // The read model keeps descriptions without their schemas: a custom plugin's comes from the stored one.
    const schemaJson =
      !builtin && offered ? (await this.agents.storedDescription(agent!.id))?.plugins.find((p) => p.name === plugin)?.configSchemaJson : undefined;
    const v = builtin ? this.registry.validate(plugin, config) : offered ? this.describedValidator(schemaJson ?? '')(config) : undefined;
    if (!v) {
      const known = [...new Set([...this.registry.names(), ...(described?.plugins.map((p) => p.name) ?? [])])].sort();
      return [{ field: 'plugin', message: `unknown plugin "${plugin}" (known: ${known.join(', ')})` }];
    }
    return v.ok ? [] : v.errors.map((e) => ({ field: e.field ? `config.${e.field}` : 'config', message: e.message }));
  }

  /** Compiled once per schema text an agent reported: the same custom plugin on many agents shares one. */
  private describedValidator(schemaJson: string): (config: unknown) => Validation<unknown> {
    let validator = this.describedValidators.get(schemaJson);
    if (!validator) {
      // A handful of custom plugins in practice; the bound only keeps a misbehaving fleet from growing it.
      if (this.describedValidators.size >= 256) this.describedValidators.clear();
      validator = describedConfigValidator(schemaJson);
      this.describedValidators.set(schemaJson, validator);
    }
    return validator;
  }

  private async validateConfig(plugin: string, config: unknown, agent: AgentEntity): Promise<void> {
    const errors = await this.configErrors(plugin, config, agent);
    if (errors.length > 0) throw new ValidationFailedError('invalid check', errors);
  }
}
