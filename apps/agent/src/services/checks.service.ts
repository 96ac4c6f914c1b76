import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Scheduler, formatInterval, nextOnCadence, statusToProto, timeoutBeyondInterval, type Clock } from '#rounds/common';
import type { CheckResult, CheckSpec, CheckRejection } from '#rounds/common/wire';
import { PluginRegistry, formatFieldErrors, runRegistered, type Metric as PluginMetric } from '#rounds/plugins';
import type { AgentConfig } from '../config/agent-config.js';
import type { Spool } from '../spool/spool.js';
import { AGENT_CONFIG, CLOCK, PLUGIN_REGISTRY, SPOOL } from './tokens.js';

const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 10 * 60 * 1000;

interface ActiveCheck {
  spec: CheckSpec;
  config: unknown;
  /** Identity of the definition: a change reschedules, an identical re-send does not. */
  fingerprint: string;
}

function toWireMetrics(metrics: PluginMetric[]) {
  return metrics.map((m) => ({ name: m.name, value: m.value, unit: m.unit, labels: m.labels ?? {} }));
}

/**
 * Holds the check set the collector assigned, runs each check on its interval
 * through the plugin runner (bounded concurrency, deadline per run) and appends
 * every result to the spool.
 */
@Injectable()
export class ChecksService implements OnModuleDestroy {
  private readonly log = new Logger('Checks');
  private readonly scheduler: Scheduler;
  private readonly active = new Map<string, ActiveCheck>();
  private version = '';
  private pluginErrorCount = 0;

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
    @Inject(SPOOL) private readonly spool: Spool,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.scheduler = new Scheduler(clock, config.checks.concurrency);
  }

  get assignmentVersion(): string {
    return this.version;
  }

  get checkCount(): number {
    return this.active.size;
  }

  get pluginErrors(): number {
    return this.pluginErrorCount;
  }

  /** Validates one spec against the agent's plugins; returns the parsed config or the reason it is refused. */
  prepare(spec: CheckSpec): { ok: true; config: unknown } | { ok: false; error: string } {
    if (!spec.id) return { ok: false, error: 'check id is empty' };
    const { minIntervalMs } = this.config.checks;
    if (spec.intervalMs < minIntervalMs) {
      return {
        ok: false,
        error:
          `interval ${formatInterval(spec.intervalMs)} is below this agent's minimum of ${formatInterval(minIntervalMs)} — ` +
          `set checks.minIntervalMs in ${this.config.path} to allow shorter intervals`,
      };
    }
    if (spec.timeoutMs < MIN_TIMEOUT_MS || spec.timeoutMs > MAX_TIMEOUT_MS) {
      return { ok: false, error: `timeout_ms ${spec.timeoutMs} must be between ${MIN_TIMEOUT_MS} and ${MAX_TIMEOUT_MS}` };
    }
    const timing = timeoutBeyondInterval(spec.timeoutMs, spec.intervalMs);
    if (timing) return { ok: false, error: timing };
    let json: unknown;
    try {
      json = JSON.parse(spec.configJson || '{}');
    } catch (e) {
      return { ok: false, error: `config_json is not JSON: ${(e as Error).message}` };
    }
    const v = this.registry.validate(spec.plugin, json);
    if (!v.ok) return { ok: false, error: formatFieldErrors(v.errors) };
    return { ok: true, config: v.value };
  }

  /**
   * Replaces the check set. Valid checks are applied even when others are refused,
   * so one bad config never stops the rest from running.
   */
  apply(version: string, specs: CheckSpec[]): CheckRejection[] {
    const oversized = this.refuseOversized(specs);
    const rejected: CheckRejection[] = oversized ?? [];
    const wanted = new Set<string>();
    for (const spec of oversized ? [] : specs) {
      const prepared = this.prepare(spec);
      if (!prepared.ok) {
        rejected.push({ checkId: spec.id, error: prepared.error });
        continue;
      }
      wanted.add(spec.id);
      const fingerprint = JSON.stringify([spec.plugin, spec.configJson, spec.intervalMs, spec.timeoutMs]);
      if (this.active.get(spec.id)?.fingerprint === fingerprint) continue;
      this.active.set(spec.id, { spec, config: prepared.config, fingerprint });
      // Jitter the first run across the interval so a fresh assignment does not fire at once.
      const firstDue = this.clock.now() + Math.floor(Math.random() * Math.min(spec.intervalMs, 5000));
      this.scheduler.add(spec.id, firstDue, (lateBy) => this.runScheduled(spec.id, lateBy));
    }
    for (const id of [...this.active.keys()]) {
      if (!wanted.has(id)) {
        this.active.delete(id);
        this.scheduler.remove(id);
      }
    }
    this.version = version;
    // One line for a refused set, not one per check of it.
    if (!oversized) for (const r of rejected) this.log.warn(`check ${r.checkId} refused: ${r.error}`);
    this.log.log(`assignment ${version}: ${this.active.size} checks running, ${rejected.length} refused`);
    return rejected;
  }

  /**
   * A set beyond `checks.maxChecks` is refused as a whole: running part of it would pick
   * checks at random. Nothing of it runs (what ran before stops: the collector no longer
   * wants that set) and every check of it carries the refusal, which the collector
   * records as the check's state.
   */
  private refuseOversized(specs: CheckSpec[]): CheckRejection[] | undefined {
    const { maxChecks } = this.config.checks;
    if (specs.length <= maxChecks) return undefined;
    const error =
      `the collector assigned ${specs.length} checks, more than this agent's limit of ${maxChecks} — ` +
      `set checks.maxChecks in ${this.config.path} to allow more, or move checks to another agent`;
    this.log.error(`check set refused: ${error}`);
    return specs.map((s) => ({ checkId: s.id, error }));
  }

  /** Runs a check once, now, without spooling (RunCheck); a missing or invalid check is answered as UNKNOWN/config_error. */
  async runOnce(spec: CheckSpec | undefined): Promise<CheckResult> {
    if (!spec) return this.configError('', 'RunCheck needs a check');
    const prepared = this.prepare(spec);
    if (!prepared.ok) return this.configError(spec.id, prepared.error);
    return { ...(await this.execute(spec, prepared.config)), seq: 0 };
  }

  private configError(checkId: string, summary: string): CheckResult {
    return {
      seq: 0,
      checkId,
      startedAtMs: this.clock.now(),
      durationMs: 0,
      status: statusToProto('UNKNOWN'),
      reason: 'config_error',
      summary,
      metrics: [],
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.scheduler.stop();
  }

  private async runScheduled(id: string, lateBy: number): Promise<number | undefined> {
    const check = this.active.get(id);
    if (!check) return undefined;
    const plannedAt = this.clock.now() - lateBy;
    const result = await this.execute(check.spec, check.config);
    if (this.active.get(id) === check) this.spool.append(result);
    return nextOnCadence(plannedAt, check.spec.intervalMs, this.clock.now());
  }

  private async execute(spec: CheckSpec, config: unknown): Promise<Omit<CheckResult, 'seq'>> {
    const report = await runRegistered(this.registry.get(spec.plugin)!, config, {
      timeoutMs: spec.timeoutMs,
      clock: this.clock,
      log: {
        debug: (m) => this.log.debug(`[${spec.plugin} ${spec.id}] ${m}`),
        warn: (m) => this.log.warn(`[${spec.plugin} ${spec.id}] ${m}`),
      },
    });
    if (report.pluginError) {
      this.pluginErrorCount++;
      this.log.warn(`check ${spec.id} (${spec.plugin}): ${report.outcome.summary}`);
    }
    if (report.cutOff) this.log.warn(`check ${spec.id} (${spec.plugin}) ignored its deadline and was cut off`);
    return {
      checkId: spec.id,
      startedAtMs: report.startedAt,
      durationMs: report.durationMs,
      status: statusToProto(report.outcome.status),
      reason: report.outcome.reason,
      summary: report.outcome.summary,
      metrics: toWireMetrics(report.outcome.metrics),
    };
  }
}
