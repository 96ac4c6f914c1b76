import { Inject, Injectable, Optional } from '@nestjs/common';
import { z } from 'zod';
import { CHECK_STATUSES, boundResult, formatInterval, redactSecrets, restoreRedacted, statusFromProto, timeoutBeyondInterval, type CheckStatus, type Clock } from '#rounds/common';
import { PluginRegistry, issuesToFieldErrors, withoutControlCharacters, type FieldError } from '#rounds/plugins';
import type { AgentEntity, CheckEntity } from '../storage/entities/index.js';
import { ChecksRepository } from './checks.repository.js';
import { AgentCallError, AgentClientPool } from './agent-client.pool.js';
import type { CollectorConfig } from '../config/env.js';
import { AgentsService, descriptionOf, endpointOf } from './agents.service.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { CLOCK, COLLECTOR_CONFIG, PLUGIN_REGISTRY } from '../shared/tokens.js';
import { CurrentState } from '../state/current-state.js';
import type { StoredMetric } from '../polling/result-writer.js';
import type { AgentState } from '../storage/entities/index.js';

const checkFields = {
  name: withoutControlCharacters(z.string().min(1).max(120)),
  config: z.record(z.string(), z.unknown()),
  // The floor depends on the collector's settings: see checkSchemas().
  intervalMs: z.number().int().max(86_400_000),
  timeoutMs: z.number().int().min(100).max(600_000),
  enabled: z.boolean(),
};

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/** The limits of the collector's settings (ROUNDS_MIN_CHECK_INTERVAL_MS) built into the check schemas. */
function checkSchemas(limits: { minIntervalMs: number }) {
  const intervalMs = checkFields.intervalMs.refine((v) => v >= limits.minIntervalMs, {
    error: (issue) =>
      `interval ${formatInterval(issue.input as number)} is below the minimum of ${formatInterval(limits.minIntervalMs)} — ` +
      'set ROUNDS_MIN_CHECK_INTERVAL_MS on the collector to allow shorter intervals',
  });
  const input = z
    .strictObject({
      agent: z.string().min(1).meta({ description: 'agent id or name' }),
      plugin: z.string().min(1),
      name: checkFields.name,
      config: checkFields.config.default({}),
      intervalMs: intervalMs.default(DEFAULT_INTERVAL_MS),
      // Unset: 10 s, or the interval when that is shorter (a timeout never exceeds its interval).
      timeoutMs: checkFields.timeoutMs.optional(),
      enabled: checkFields.enabled.default(true),
    })
    .superRefine((c, ctx) => {
      // zod runs this even when a field failed; judge the pair only when both are numbers.
      const problem = typeof c.timeoutMs === 'number' && typeof c.intervalMs === 'number' ? timeoutBeyondInterval(c.timeoutMs, c.intervalMs) : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: ['timeoutMs'], message: problem });
    })
    .transform((c) => ({ ...c, timeoutMs: c.timeoutMs ?? Math.min(DEFAULT_TIMEOUT_MS, c.intervalMs) }));
  // No defaults here: zod applies defaults even inside .partial(), and a PATCH must change only what it names.
  // The timeout-within-interval rule needs the stored check too: ChecksService.update() applies it.
  const patch = z.strictObject({ ...checkFields, intervalMs }).partial();
  return { input, patch };
}

export type CheckInput = z.input<ReturnType<typeof checkSchemas>['input']>;

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

/**
 * Check definitions: validated against the plugin's schema before anything is saved. While the
 * collector serves, reads come from the read model and every change refreshes it; the CLI's
 * one-shot commands have no read model and read the database.
 */
@Injectable()
export class ChecksService {
  private readonly schemas: ReturnType<typeof checkSchemas>;

  constructor(
    private readonly checks: ChecksRepository,
    private readonly agents: AgentsService,
    private readonly pool: AgentClientPool,
    @Inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() private readonly state?: CurrentState,
  ) {
    this.schemas = checkSchemas({ minIntervalMs: config.minCheckIntervalMs });
  }

  async list(agent?: string): Promise<CheckEntity[]> {
    const agentId = agent === undefined ? undefined : (await this.agents.get(agent)).id;
    if (this.state) return this.state.listChecks(agentId).map((r) => r.check);
    return this.checks.findAll(agentId === undefined ? undefined : { agentId });
  }

  async get(id: string): Promise<CheckEntity> {
    const check = this.state ? this.state.check(id)?.check : await this.checks.findById(id);
    if (!check) throw new NotFoundError(`no check with id "${id}"`);
    return check;
  }

  async create(input: unknown): Promise<CheckEntity> {
    const parsed = this.schemas.input.safeParse(input);
    const errors = parsed.success ? [] : issuesToFieldErrors(parsed.error.issues);
    // Report the plugin config's errors together with the rest, so one round trip shows everything.
    const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    const agent = typeof raw['agent'] === 'string' ? await this.agents.get(raw['agent']).catch(() => undefined) : undefined;
    if (typeof raw['agent'] === 'string' && !agent) errors.push({ field: 'agent', message: `no agent with id or name "${raw['agent']}"` });
    if (typeof raw['plugin'] === 'string') {
      errors.push(...this.configErrors(raw['plugin'], raw['config'] ?? {}, agent ? descriptionOf(agent)?.plugins.map((p) => p.name) : undefined));
    }
    if (!parsed.success || errors.length > 0 || !agent) throw new ValidationFailedError('invalid check', dedupe(errors));
    const dto = parsed.data;
    await this.mustBeFreeName(agent.id, dto.name);
    await this.mustHaveRoom(agent);
    const created = await this.checks.create({ ...dto, agentId: agent.id });
    await this.state?.refreshAgent(agent.id);
    return created;
  }

  async update(id: string, input: unknown): Promise<CheckEntity> {
    const existing = await this.get(id);
    const parsed = this.schemas.patch.safeParse(input);
    if (!parsed.success) throw new ValidationFailedError('invalid check', issuesToFieldErrors(parsed.error.issues));
    const patch = { ...parsed.data };
    const timing = timeoutBeyondInterval(patch.timeoutMs ?? existing.timeoutMs, patch.intervalMs ?? existing.intervalMs);
    // Named after the field the PATCH changed: the stored one is not what the caller got wrong.
    if (timing) throw new ValidationFailedError('invalid check', [{ field: patch.timeoutMs === undefined ? 'intervalMs' : 'timeoutMs', message: timing }]);
    if (patch.config) {
      // A form or script echoing back the redacted view keeps the stored secrets.
      patch.config = restoreRedacted(this.registry.get(existing.plugin)?.jsonSchema, patch.config, JSON.parse(existing.configJson)) as Record<string, unknown>;
      const agent = await this.agents.get(existing.agentId);
      this.validateConfig(existing.plugin, patch.config, descriptionOf(agent)?.plugins.map((p) => p.name));
    }
    if (patch.name !== undefined && patch.name !== existing.name) await this.mustBeFreeName(existing.agentId, patch.name, id);
    const updated = await this.checks.update(id, patch);
    if (!updated) throw new NotFoundError(`no check with id "${id}"`);
    await this.state?.refreshAgent(updated.agentId);
    return updated;
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

  async remove(id: string): Promise<void> {
    const check = await this.get(id);
    if (!(await this.checks.delete(id))) throw new NotFoundError(`no check with id "${id}"`);
    await this.state?.refreshAgent(check.agentId);
  }

  /** Runs the check on its agent now and returns the result (not stored). */
  async runNow(id: string) {
    const check = await this.get(id);
    const agent = await this.agents.get(check.agentId);
    try {
      const answer = await this.pool.runCheck(
        endpointOf(agent),
        { check: { id: check.id, plugin: check.plugin, configJson: check.configJson, intervalMs: check.intervalMs, timeoutMs: check.timeoutMs } },
        check.timeoutMs + this.config.pollTimeoutMs,
      );
      const r = boundResult(answer).result;
      return { status: statusFromProto(r.status), reason: r.reason, summary: r.summary, durationMs: r.durationMs, startedAt: r.startedAtMs, metrics: r.metrics };
    } catch (e) {
      if (e instanceof AgentCallError) throw new ConflictError(e.message);
      throw e;
    }
  }

  /** The check's current state from the read model (null before its first result, or without a read model). */
  stateView(checkId: string): CheckStateView | null {
    const record = this.state?.check(checkId);
    const s = record?.state;
    if (!record || !s || s.lastResultAt === null) return null;
    const freshness = this.state!.freshness(record, this.clock.now());
    return {
      status: CHECK_STATUSES[s.status]!,
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

  /** The check as shown to people: secrets replaced by a placeholder. */
  view(check: CheckEntity): CheckView {
    const config = JSON.parse(check.configJson) as unknown;
    const schema = this.registry.get(check.plugin)?.jsonSchema;
    return {
      id: check.id,
      agentId: check.agentId,
      name: check.name,
      plugin: check.plugin,
      config: redactSecrets(schema, config),
      intervalMs: check.intervalMs,
      timeoutMs: check.timeoutMs,
      enabled: check.enabled,
      createdAt: check.createdAt,
      updatedAt: check.updatedAt,
    };
  }

  /**
   * Built-in plugins are validated here with their own schema (exact field errors).
   * A custom plugin the agent described is accepted as a JSON object and validated by
   * the agent, whose refusal shows on the check's state.
   */
  private configErrors(plugin: string, config: unknown, agentPlugins: string[] | undefined): FieldError[] {
    if (this.registry.get(plugin)) {
      const v = this.registry.validate(plugin, config);
      return v.ok ? [] : v.errors.map((e) => ({ field: e.field ? `config.${e.field}` : 'config', message: e.message }));
    }
    if (agentPlugins?.includes(plugin)) return [];
    const known = [...new Set([...this.registry.names(), ...(agentPlugins ?? [])])].sort();
    return [{ field: 'plugin', message: `unknown plugin "${plugin}" (known: ${known.join(', ')})` }];
  }

  private validateConfig(plugin: string, config: unknown, agentPlugins: string[] | undefined): void {
    const errors = this.configErrors(plugin, config, agentPlugins);
    if (errors.length > 0) throw new ValidationFailedError('invalid check', errors);
  }
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.field}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
