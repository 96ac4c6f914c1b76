import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import {
  AlertEngine,
  AlertNotFoundError,
  AlertStateError,
  isActive,
  isForecast,
  maintenanceIntervals,
  nextOccurrence,
  SilenceError,
  type AlertEngineOptions,
  type AlertEngineState,
  type CheckPolicy,
  type CheckPolicyOverride,
  type CheckResultInput,
  type DependencyRef,
  type ForecastInput,
  type ForecastStatus,
  type SeriesRef,
  type EngineStep,
  type MuteReason,
  type Interval,
  type MaintenanceWindow,
  type Rule,
  type Silence,
} from './index.js';
import type { CollectorConfig } from '../config/env.js';
import type { AcknowledgeDto, AddSilenceDto, AlertHistoryQuery, CheckPolicyDto, MaintenanceWindowDto, SetRulesDto } from './alerting.dto.js';
import { OutboxService } from '../notifications/outbox.service.js';
import type { EscalationVerdict } from '../routing/notification-router.js';
import { AlertingRepository, type HistoryLine, type InboxEvent } from './alerting.repository.js';

export type { HistoryLine } from './alerting.repository.js';
import { EngineJournal, emptyStep, merge } from './engine-journal.js';
import { checkLabels } from './engine-checks.js';
import { dependenciesOf } from '../inventory/dependencies.js';
import { incidentsOf, type Incident } from './incidents.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import type { NamedResult, PolledAgent, PollEvents } from '../polling/poller.service.js';
import { CurrentState } from '../state/current-state.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import { storageFault } from '../storage/storage-fault.js';
import type { AuditContext, AuditDraft, AuditTarget } from '../audit/audit.types.js';
import { alertTarget, alertView, ruleView, silenceTarget, type AlertView, type RuleView } from './alert-views.js';

export const ALERTING_OPTIONS = Symbol('ALERTING_OPTIONS');

/** What a config document sets in alerting (see AlertingService.configure). */
export interface AlertingChange {
  /** The whole rule list; undefined: unchanged. */
  rules?: Rule[];
  /** Windows added or replaced (by id). */
  putWindows: MaintenanceWindow[];
  removeWindows: string[];
  /** `override: null`: back to the defaults. */
  policies: { checkId: string; checkName: string; override: CheckPolicyOverride | null }[];
}

export interface AlertingOptions {
  /** How often time acts (reminders, expiries, windows opening and closing); 0: never (specs tick by hand). */
  tickMs: number;
  /** How often forecast rules are judged from the history (ForecastService); 0: never (specs run rounds by hand). */
  forecastMs?: number;
  /** Engine defaults (reminder interval, check policy); see AlertEngineOptions. */
  engine?: Omit<AlertEngineOptions, 'clock' | 'rules'>;
  /**
   * Least wall-clock time between two writes of the engine state; changes meanwhile join the
   * next write. With 20,000 checks a write is ~8 MB: when 2,000 agents go DOWN together, one
   * write per transition starved the poller (bench: scale outage). Notifications wait at most
   * this long. 0: write at once (specs).
   */
  commitSpacingMs: number;
}

export const DEFAULT_ALERTING_OPTIONS: AlertingOptions = Object.freeze({ tickMs: 15_000, commitSpacingMs: 1000 });

/** How often a state that changed only in counters is written (transitions are written at once). */
const COUNTER_SAVE_MS = 60_000;

/** Several collectors (docs/scaling.md): how often the leader takes in the others' poll events. */
const INBOX_MS = 500;
/** …and how often a collector that is not the leader looks for a newer engine state for its views. */
const REFRESH_MS = 2000;
/** Inbox rows taken in per engine change. */
const INBOX_BATCH = 500;
/**
 * Inbox rows taken in but not yet deleted after which the state is written even with nothing to
 * say: in a quiet steady state nothing forces a write, and every read would skip over more rows
 * (bench: postgres, three collectors polling 800 agents a second).
 */
const INBOX_UNWRITTEN = 2000;

/**
 * Owns the alert engine: restores it at start, feeds it stored results and agent
 * reachability (as the poller's {@link PollEvents}), lets time act every `tickMs`, and
 * for every step commits the engine state, the history lines and the outbox rows in one
 * transaction before the outbox is woken. Steps run one at a time, in call order.
 *
 * A step that changed only check counters (no transition, nothing to say) is kept in
 * memory and written with the next step or tick: a crash loses at most those counters —
 * an alert then fires a few results later — never a notification, and never repeats one.
 */
@Injectable()
export class AlertingService implements PollEvents, OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Alerting');
  private readonly options: AlertingOptions;
  /** Set by load(); absent when start-up failed before the module was initialised. */
  private journal!: EngineJournal;
  private timer: unknown;
  private running = false;
  /** After stop(): late poller events are dropped (like results a crash would not have judged). */
  private closed = false;
  /** The inventory version and engine the engine's dependencies were last set from. */
  private dependenciesVersion = -1;
  private dependenciesEngine: AlertEngine | null = null;
  private readonly cluster: Cluster;
  private clusterTimer: unknown;
  /** Whether this collector led at the cluster loop's last round (a new leader loads the state first). */
  private led = false;
  private refreshedAt = 0;
  /** Poll events on their way to the inbox, in order. */
  private forwarding: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: AlertingRepository,
    private readonly state: CurrentState,
    private readonly outbox: OutboxService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Optional() @Inject(ALERTING_OPTIONS) options?: Partial<AlertingOptions>,
    @Optional() @Inject(CLUSTER) cluster?: Cluster,
  ) {
    this.options = { ...DEFAULT_ALERTING_OPTIONS, ...(options ?? {}) };
    this.cluster = cluster ?? SOLO;
  }

  private get engineOptions(): AlertEngineOptions {
    return { ...(this.options.engine ?? {}), clock: this.clock };
  }

  async onModuleInit(): Promise<void> {
    await this.load();
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Restores the engine from the database (a fresh one when there is no saved state). */
  async load(): Promise<void> {
    const stored = await this.store.loadState();
    const engine = stored ? AlertEngine.fromJSON(stored.state as AlertEngineState, this.engineOptions) : new AlertEngine(this.engineOptions);
    this.journal = new EngineJournal(engine, stored?.revision ?? 0, this.store, this.outbox, this.clock, {
      engine: this.engineOptions,
      commitSpacingMs: this.options.commitSpacingMs,
      publicUrl: this.config.publicUrl,
      refusal: domainError,
      shared: this.cluster.shared,
    });
    this.closed = false;
  }

  /** Starts ticking (serve mode), and with other collectors on the database, the cluster loop. */
  start(): void {
    if (this.running || this.options.tickMs <= 0) return;
    this.running = true;
    this.schedule();
    if (this.cluster.shared) this.scheduleCluster();
  }

  /** Stops ticking and waits for the steps under way; writes what is only in memory. */
  async stop(): Promise<void> {
    this.running = false;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.clusterTimer !== undefined) this.clock.clearTimeout(this.clusterTimer);
    this.clusterTimer = undefined;
    await this.forwarded();
    // Stopped before it was loaded (start-up failed after the module was created): nothing to save.
    if ((this.journal as EngineJournal | undefined) === undefined) return;
    await this.journal.settled();
    if (this.journal.dirty)
      await this.journal.run(() => ({ step: emptyStep(), value: undefined, force: true })).catch((e: unknown) => this.logFailure('saving the alert state', e));
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      // Time acts on the leader's engine only: one reminder, not one per collector.
      void (this.cluster.isLeader() ? this.tick() : Promise.resolve())
        .catch((e: unknown) => this.logFailure('the alerting tick', e))
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.options.tickMs);
  }

  private scheduleCluster(): void {
    this.clusterTimer = this.clock.setTimeout(() => {
      this.clusterTimer = undefined;
      void this.clusterRound()
        .catch((e: unknown) => this.logFailure('the alert engine across collectors', e))
        .finally(() => {
          if (this.running) this.scheduleCluster();
        });
    }, INBOX_MS);
  }

  /**
   * Several collectors on one database (docs/scaling.md): the leader takes in the others' poll
   * events — after loading the stored state when it has just become leader — and the others keep
   * the copy their views are drawn from current. Public for specs, which run rounds by hand.
   */
  async clusterRound(): Promise<void> {
    const leader = this.cluster.isLeader();
    const became = leader && !this.led;
    this.led = leader;
    if (became || this.clock.now() - this.refreshedAt >= REFRESH_MS) {
      this.refreshedAt = this.clock.now();
      await this.journal.refresh();
    }
    if (leader) while ((await this.takeInInbox()) === INBOX_BATCH && !this.closed);
  }

  /** Applies waiting inbox rows (oldest first) as one engine change; answers how many. */
  private async takeInInbox(): Promise<number> {
    const rows = await this.store.readInbox(INBOX_BATCH, this.journal.takenIn);
    if (rows.length === 0) return 0;
    await this.journal.run((engine) => {
      const step = this.dependencies(engine);
      for (const row of rows) merge(step, this.apply(engine, row));
      const force = this.journal.takenIn.size + rows.length >= INBOX_UNWRITTEN;
      return { step, value: undefined, consumed: rows.map((r) => r.id), force };
    });
    return rows.length;
  }

  /** One poll event, from this collector's poller or from another's through the inbox. */
  private apply(engine: AlertEngine, event: InboxEvent): EngineStep {
    const { name, error, results } = event.payload as { name: string; error?: string; results?: NamedResult[] };
    const agent = { id: event.agentId, name };
    if (event.kind === 'down') return engine.agentUnreachable({ agentId: agent.id, agentName: agent.name, error: error ?? '' });
    if (event.kind === 'up') return engine.agentReachable({ agentId: agent.id, agentName: agent.name });
    return engine.ingest(this.inputs(engine, agent, results ?? []));
  }

  // ---- inputs (PollEvents) ---------------------------------------------------------

  resultsStored(agent: PolledAgent, results: readonly NamedResult[]): void {
    this.event({ kind: 'results', agentId: agent.id, payload: { name: agent.name, results } }, `the results of agent ${agent.name}`);
  }

  agentDown(agent: PolledAgent, error: string): void {
    this.event({ kind: 'down', agentId: agent.id, payload: { name: agent.name, error } }, `agent ${agent.name} going DOWN`);
  }

  agentUp(agent: PolledAgent): void {
    this.event({ kind: 'up', agentId: agent.id, payload: { name: agent.name } }, `agent ${agent.name} coming UP`);
  }

  /**
   * A poll event goes to this collector's engine when it leads (or is alone), else into the
   * inbox for the leader's — in the order the poller reported them.
   */
  private event(event: InboxEvent, what: string): void {
    if (this.closed) return;
    if (!this.cluster.shared || this.cluster.isLeader()) {
      void this.journal
        .run((engine) => ({ step: merge(this.dependencies(engine), this.apply(engine, event)), value: undefined }))
        .catch((e: unknown) => this.logFailure(what, e));
      return;
    }
    this.forwarding = this.forwarding.then(() => this.store.appendInbox([event], this.clock.now()).catch((e: unknown) => this.logFailure(what, e)));
  }

  /** Resolves when the poll events handed to the inbox so far are there (or failed, logged). */
  forwarded(): Promise<void> {
    return this.forwarding;
  }

  /** Folds stored results of enabled checks into the engine. */
  async ingest(agent: PolledAgent, results: readonly NamedResult[]): Promise<void> {
    await this.journal.run((engine) => ({ step: merge(this.dependencies(engine), engine.ingest(this.inputs(engine, agent, results))), value: undefined }));
  }

  /** The engine's inputs for results of enabled checks, leaving out those it has already taken in. */
  private inputs(engine: AlertEngine, agent: PolledAgent, results: readonly NamedResult[]): CheckResultInput[] {
    const inputs: CheckResultInput[] = [];
    for (const r of results) {
      const last = engine.checkState(r.checkId)?.lastResultAt;
      if (last !== undefined && last !== null && r.startedAt <= last) continue; // handed over twice
      inputs.push({
        agentId: agent.id,
        agentName: agent.name,
        checkId: r.checkId,
        checkName: r.checkName,
        plugin: r.plugin,
        ...this.tagsOf(r.checkId),
        status: r.status,
        reason: r.reason,
        summary: r.summary,
        metrics: r.metrics,
        at: r.startedAt,
      });
    }
    return inputs;
  }

  /**
   * Hands the engine the inventory's dependencies when agents or checks changed since it last
   * had them (and once after a restore: they are not part of the saved state).
   */
  private dependencies(engine: AlertEngine): EngineStep {
    if (this.dependenciesVersion === this.state.inventoryVersion && this.dependenciesEngine === engine) return emptyStep();
    this.dependenciesVersion = this.state.inventoryVersion;
    this.dependenciesEngine = engine;
    const agents = this.state.listAgents().map((r) => r.agent);
    return engine.setDependencies(dependenciesOf({ checks: this.state.listChecks().map((r) => r.check), agents }));
  }

  /** What a check or agent's new alerts are held back by now (its parents down, its agent unreachable): the check page's "suppressed by". */
  suppressedBy(node: DependencyRef): MuteReason[] {
    return this.journal.engine.suppressedBy(node);
  }

  /** The check's tags with its agent's, as the read model has them now (none for a check it no longer knows). */
  private tagsOf(checkId: string): { tags?: Record<string, string> } {
    const record = this.state.check(checkId);
    return record ? { tags: this.state.tagsOf(record.check) } : {};
  }

  /** Lets time act; forgets checks and agents deleted or disabled since; writes what is only in memory. */
  async tick(): Promise<void> {
    await this.journal.run(async (engine) => {
      const enabled = this.state.enabledCheckIds();
      const present = this.state.agentIds();
      const step = this.dependencies(engine);
      for (const agentId of engine.knownAgentIds()) if (!present.has(agentId)) merge(step, engine.forgetAgent(agentId));
      for (const c of engine.knownChecks()) if (present.has(c.agentId) && !enabled.has(c.checkId)) merge(step, engine.forgetCheck(c.checkId));
      merge(step, engine.tick());
      // Counters and flap history only (no transition): saved at most once a minute, since with
      // thousands of checks the state is megabytes and a crash only delays an alert (bench: scale).
      return { step, value: undefined, force: this.journal.dirty && this.clock.now() - this.journal.savedAt >= COUNTER_SAVE_MS };
    });
  }

  /**
   * Whether an escalation step of the alert's episode `activeAt` is still wanted now: not when
   * the alert resolved (or a new episode began), was acknowledged, or is muted.
   */
  escalationVerdict(fingerprint: string, activeAt: number): EscalationVerdict {
    const alert = this.journal.engine.alert(fingerprint);
    if (!alert || alert.activeAt !== activeAt || alert.state !== 'firing') return { send: false, why: 'the alert resolved' };
    if (alert.ack) return { send: false, why: `acknowledged by ${alert.ack.by}` };
    const muted = this.journal.engine.mutedBy(fingerprint);
    if (muted.length > 0) return { send: false, why: `muted (${muted.map((m) => m.type).join(', ')}) when the step was due` };
    return { send: true };
  }

  /** Escalation enqueued something: deliver it now. */
  kickOutbox(): void {
    this.outbox.kick();
  }

  // ---- operator actions --------------------------------------------------------------

  alerts(): AlertView[] {
    const engine = this.journal.engine;
    return engine.alerts().map((a) => alertView(a, engine.mutedBy(a.fingerprint)));
  }

  alert(fingerprint: string): AlertView {
    const view = this.alerts().find((a) => a.fingerprint === fingerprint);
    if (!view) throw new NotFoundError(new AlertNotFoundError(fingerprint).message);
    return view;
  }

  /** One page of the history (newest first unless asked) and how many lines pass the query's filters. */
  history(query: AlertHistoryQuery): Promise<{ total: number; page: HistoryLine[] }> {
    const { sort, label, limit, ...filters } = query;
    return this.store.historyPage({
      ...filters,
      label: label && { name: label.label, value: label.value },
      oldestFirst: !sort.descending,
      // The schema's default: always a number here.
      limit: limit ?? 100,
    });
  }

  async acknowledge(fingerprint: string, ack: AcknowledgeDto, context: AuditContext): Promise<AlertView> {
    await this.journal.run((engine) => {
      const before = engine.alert(fingerprint)?.ack ?? null;
      const step = engine.acknowledge(fingerprint, ack);
      const alert = engine.alert(fingerprint);
      return {
        step,
        value: undefined,
        audit: { context, action: 'alert.ack', target: alertTarget(fingerprint, alert?.name), before, after: alert?.ack ?? null },
      };
    });
    return this.alert(fingerprint);
  }

  async unacknowledge(fingerprint: string, by: string, context: AuditContext): Promise<void> {
    await this.journal.run((engine) => {
      const alert = engine.alert(fingerprint);
      const step = engine.unacknowledge(fingerprint, by);
      return {
        step,
        value: undefined,
        audit: { context, action: 'alert.unack', target: alertTarget(fingerprint, alert?.name), before: alert?.ack ?? null, after: null },
      };
    });
  }

  hasForecastRules(): boolean {
    return this.journal.engine.rules().some(isForecast);
  }

  /** The forecast rules' series among these (see AlertEngine.forecastTargets). */
  forecastTargets<S extends SeriesRef>(series: readonly S[]): { rule: string; windowMs: number; series: S }[] {
    return this.journal.engine.forecastTargets(series);
  }

  /** One forecast round with the watched series' points (ForecastService reads them from the history). */
  async judgeForecasts(inputs: readonly ForecastInput[]): Promise<void> {
    if (this.closed) return;
    await this.journal.run((engine) => ({ step: engine.judgeForecasts(inputs), value: undefined }));
  }

  /** What the last forecast round said per rule and series: why a forecast rule does not fire (too few points, no crossing within the horizon). */
  forecasts(): ForecastStatus[] {
    return this.journal.engine.forecasts();
  }

  rules(): RuleView[] {
    return this.journal.engine.rules().map(ruleView);
  }

  /** Replaces the whole rule list (validated as a whole: names are unique). */
  async setRules(rules: SetRulesDto, context: AuditContext): Promise<RuleView[]> {
    await this.journal.run((engine) => {
      const before = engine.rules().map(ruleView);
      const step = engine.setRules(rules);
      const audit = {
        context,
        action: 'rules.set',
        target: { kind: 'alert-rules', id: null, name: null },
        before,
        after: engine.rules().map(ruleView),
      } as const;
      return { step, value: undefined, force: true, audit };
    });
    return this.rules();
  }

  silences(): (Silence & { active: boolean })[] {
    const now = this.clock.now();
    return this.journal.engine.silences().map((s) => ({ ...s, active: s.startsAt <= now && now < s.endsAt }));
  }

  async addSilence(request: AddSilenceDto, context: AuditContext): Promise<Silence> {
    return this.journal.run((engine) => {
      try {
        const { silence, ...step } = engine.addSilence(request);
        return { step, value: silence, force: true, audit: { context, action: 'silence.add', target: silenceTarget(silence), before: null, after: silence } };
      } catch (e) {
        if (e instanceof SilenceError) throw new ValidationFailedError('invalid silence', [{ field: 'endsAt', message: e.message }]);
        throw e;
      }
    });
  }

  /** Ends a silence now (it stays listed as expired for a while). */
  async expireSilence(id: string, context: AuditContext): Promise<void> {
    await this.journal.run((engine) => {
      const before = engine.silences().find((s) => s.id === id);
      if (!before) throw new NotFoundError(`there is no silence ${id}: it may have expired and been removed — reload the list`);
      const step = engine.expireSilence(id);
      const after = engine.silences().find((s) => s.id === id) ?? null;
      return { step, value: undefined, force: true, audit: { context, action: 'silence.expire', target: silenceTarget(before), before, after } };
    });
  }

  /** The incidents of a check (its alerts, firing to resolved, with who acknowledged them) overlapping [from, to). */
  async incidents(checkId: string, from: number, to: number): Promise<Incident[]> {
    return incidentsOf(await this.store.historyOfCheck(checkId, to), from, to, this.clock.now());
  }

  /** When maintenance windows covered the check within [from, to) (merged, in order): what uptime may leave out. */
  maintenanceOf(check: Parameters<typeof checkLabels>[0], from: number, to: number): Interval[] {
    return maintenanceIntervals(this.journal.engine.maintenanceWindows(), checkLabels(check), from, to);
  }

  maintenanceWindows(): (MaintenanceWindow & { open: boolean; next: { start: number; end: number } | null })[] {
    const now = this.clock.now();
    return this.journal.engine.maintenanceWindows().map((w) => ({ ...w, open: isActive(w, now), next: nextOccurrence(w, now) }));
  }

  /** Adds a window, or replaces the one with the same id. */
  async putMaintenanceWindow(window: MaintenanceWindowDto, context: AuditContext): Promise<MaintenanceWindow> {
    await this.journal.run((engine) => {
      const before = engine.maintenanceWindows().find((w) => w.id === window.id) ?? null;
      const step = engine.putMaintenanceWindow(window);
      return {
        step,
        value: undefined,
        force: true,
        audit: { context, action: 'maintenance.put', target: { kind: 'maintenance-window', id: window.id, name: window.name }, before, after: window },
      };
    });
    return window;
  }

  /** `ref`: the window's id, or its name when no other window has it. */
  async removeMaintenanceWindow(ref: string, context: AuditContext): Promise<void> {
    await this.journal.run((engine) => {
      const windows = engine.maintenanceWindows();
      const named = windows.filter((w) => w.name === ref);
      const before = windows.find((w) => w.id === ref) ?? (named.length === 1 ? named[0] : undefined);
      if (!before) {
        throw new NotFoundError(
          named.length > 1
            ? `${named.length} maintenance windows are named "${ref}" — name one by its id (GET /api/v1/maintenance-windows?name=${encodeURIComponent(ref)})`
            : `there is no maintenance window with id or name "${ref}" — reload the list`,
        );
      }
      const step = engine.removeMaintenanceWindow(before.id);
      return {
        step,
        value: undefined,
        force: true,
        audit: { context, action: 'maintenance.remove', target: { kind: 'maintenance-window', id: before.id, name: before.name }, before, after: null },
      };
    });
  }

  async checkPolicy(checkId: string): Promise<{ checkId: string; override: CheckPolicyOverride | null; policy: CheckPolicy }> {
    await this.mustHaveCheck(checkId);
    const override = this.journal.engine.checkPolicyOverride(checkId);
    return { checkId, override, policy: this.journal.engine.checkPolicy(checkId) };
  }

  /** Sets one check's soft/hard counts (and flap, repeat) overrides; `{}` goes back to the defaults. */
  async setCheckPolicy(
    checkId: string,
    override: CheckPolicyDto,
    context: AuditContext,
  ): Promise<{ checkId: string; override: CheckPolicyOverride | null; policy: CheckPolicy }> {
    await this.mustHaveCheck(checkId);
    const cleared = Object.keys(override).length === 0;
    const target: AuditTarget = { kind: 'check', id: checkId, name: this.state.check(checkId)?.check.name ?? null };
    await this.journal.run((engine) => {
      const before = engine.checkPolicyOverride(checkId);
      engine.setCheckPolicy(checkId, cleared ? null : override);
      return {
        step: emptyStep(),
        value: undefined,
        force: true,
        audit: { context, action: 'check-policy.set', target, before, after: engine.checkPolicyOverride(checkId) },
      };
    });
    return this.checkPolicy(checkId);
  }

  /**
   * A config document's alerting part, committed with the rest of it: `work` runs the other
   * changes in one transaction (storage/transaction.ts oneTransaction) and calls `apply` last in
   * it with the rules, windows and check policies to set. The engine is this call's alone
   * meanwhile — results and ticks wait — and it goes back to its committed state if anything
   * in `work` fails. Each change is audited as its own API call would be.
   */
  async configure<T>(context: AuditContext, work: (apply: (change: AlertingChange) => Promise<void>) => Promise<T>): Promise<T> {
    return this.journal.exclusive((engine, save) =>
      work(async (change) => {
        const step = emptyStep();
        const audit: AuditDraft[] = [];
        if (change.rules) {
          const before = engine.rules().map(ruleView);
          merge(step, engine.setRules(change.rules));
          audit.push({ context, action: 'rules.set', target: { kind: 'alert-rules', id: null, name: null }, before, after: engine.rules().map(ruleView) });
        }
        for (const window of change.putWindows) {
          const before = engine.maintenanceWindows().find((w) => w.id === window.id) ?? null;
          merge(step, engine.putMaintenanceWindow(window));
          audit.push({ context, action: 'maintenance.put', target: { kind: 'maintenance-window', id: window.id, name: window.name }, before, after: window });
        }
        for (const id of change.removeWindows) {
          const before = engine.maintenanceWindows().find((w) => w.id === id);
          if (!before) continue;
          merge(step, engine.removeMaintenanceWindow(id));
          audit.push({ context, action: 'maintenance.remove', target: { kind: 'maintenance-window', id, name: before.name }, before, after: null });
        }
        for (const { checkId, checkName, override } of change.policies) {
          const before = engine.checkPolicyOverride(checkId);
          engine.setCheckPolicy(checkId, override);
          const target: AuditTarget = { kind: 'check', id: checkId, name: checkName };
          audit.push({ context, action: 'check-policy.set', target, before, after: engine.checkPolicyOverride(checkId) });
        }
        if (audit.length > 0) await save(step, audit);
      }),
    );
  }

  /** A check's own policy override (null: the defaults). */
  checkPolicyOverride(checkId: string): CheckPolicyOverride | null {
    return this.journal.engine.checkPolicyOverride(checkId);
  }

  private async mustHaveCheck(checkId: string): Promise<void> {
    if (!this.state.check(checkId)) throw new NotFoundError(`no check with id "${checkId}"`);
  }

  private logFailure(what: string, e: unknown): void {
    // A failing database is reported once per episode by StorageHealth, not on every tick.
    if (storageFault(e)) {
      this.log.debug(`alerting could not process ${what}: ${(e as Error).message}`);
      return;
    }
    this.log.error(`alerting could not process ${what}: ${e instanceof Error ? e.message : String(e)} — the alert state stays as last saved`);
  }
}

/** The engine's refusals as the API's errors: 404 for a gone alert, 409 for a wrong state. */
function domainError(e: unknown): unknown {
  if (e instanceof AlertNotFoundError) return new NotFoundError(e.message);
  if (e instanceof AlertStateError) return new ConflictError(e.message);
  return e;
}
