import { Inject, Injectable } from '@nestjs/common';
import type { Clock, WeeklySpan } from '#rounds/common';
import type { FieldError } from '#rounds/plugins';
import { CLOCK } from '../shared/tokens.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';
import type { AlertView } from '../alerting/alert-views.js';
import { NotificationRouter, channelsReached, type StoredSettings } from './notification-router.js';
import {
  storedRules,
  storedSteps,
  type EscalationStep,
  type ExplainDto,
  type PolicyDto,
  type RouteTarget,
  type RoutingSettingsDto,
  type StoredRules,
} from './policy.js';
import type { NotificationPolicyEntity, StepStatus } from './routing.entity.js';
import { RoutingRepository, type ChannelRef } from './routing.repository.js';
import type { PolicyVerdict, Route } from './router.js';
import { byNumber, byText, nameContains, type Matchers } from '../shared/dto.js';
import type { ListPoliciesQuery } from './routing.dto.js';
import type { POLICY_SORT_KEYS } from './policy.js';

export interface PolicyView extends StoredRules {
  id: string;
  name: string;
  position: number;
  createdAt: number;
  updatedAt: number;
}

export interface RoutingSettingsView {
  /** null: every enabled channel at once. */
  defaultRoute: StoredRules['steps'] | null;
  workingHours: { timeZone: string; days: WeeklySpan['days']; from: string; to: string };
}

/** One step of a route for one alert: planned (from the policies now), or as the timeline recorded it. */
export interface StepView {
  policy: string;
  step: number;
  after: number;
  dueAt: number;
  status: StepStatus | 'planned';
  targets: RouteTarget[];
  /** The channels the targets reached (sent) or would reach at dueAt (planned, pending). */
  channels: { id: string; name: string }[];
  /** Why it was cancelled, or what its targets do not reach. */
  note: string | null;
  settledAt: number | null;
}

export interface RoutingExplanation {
  /** The instant the policies were judged at. */
  at: number;
  policies: PolicyVerdict[];
  /** The policies that take the alert, or the default route. */
  routes: string[];
  steps: StepView[];
}

export interface AlertRoutingView extends RoutingExplanation {
  fingerprint: string;
  name: string;
  state: AlertView['state'];
  /** Where the timeline comes from: the steps written when it fired, or a plan for an alert that has none (pending, or fired before routing existed). */
  timeline: 'recorded' | 'planned';
  /** The channels "resolved" and reminders go to: those the sent steps reached. */
  notified: { id: string; name: string }[];
}

export const POLICY_ORDER: Record<(typeof POLICY_SORT_KEYS)[number], (a: PolicyView, b: PolicyView) => number> = {
  position: byNumber((p) => p.position),
  name: byText((p) => p.name),
};

export const POLICY_FILTERS: Matchers<PolicyView, ListPoliciesQuery> = {
  name: (p, name) => nameContains(p.name, name),
};

/** Notification policies and routing settings: validated, stored, audited; the router reloads after each change. Also "where would this alert go, and when". */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly repo: RoutingRepository,
    private readonly router: NotificationRouter,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(): Promise<PolicyView[]> {
    return (await this.repo.policies()).map(policyView);
  }

  async get(ref: string): Promise<PolicyView> {
    return policyView(await this.find(ref));
  }

  async create(dto: PolicyDto, context: AuditContext): Promise<PolicyView> {
    const rules = await this.rulesOf(dto);
    const policies = await this.repo.policies();
    if (policies.some((p) => p.name === dto.name))
      throw new ConflictError(`a notification policy named "${dto.name}" exists already — choose another name`, 'name');
    const saved = await this.repo.savePolicy({ name: dto.name, position: dto.position, rulesJson: JSON.stringify(rules) }, this.clock.now(), (p) =>
      policyAudit(context, 'notification-policy.create', p, null, policyView(p)),
    );
    await this.router.load();
    return this.get(saved.id);
  }

  /** Replaces the policy as a whole (a GET's answer can be edited and sent back). */
  async replace(ref: string, dto: PolicyDto, context: AuditContext): Promise<PolicyView> {
    const existing = await this.find(ref);
    const rules = await this.rulesOf(dto);
    if ((await this.repo.policies()).some((p) => p.name === dto.name && p.id !== existing.id))
      throw new ConflictError(`a notification policy named "${dto.name}" exists already — choose another name`, 'name');
    await this.repo.savePolicy({ id: existing.id, name: dto.name, position: dto.position, rulesJson: JSON.stringify(rules) }, this.clock.now(), (p) =>
      policyAudit(context, 'notification-policy.update', p, policyView(existing), policyView(p)),
    );
    await this.router.load();
    return this.get(existing.id);
  }

  async remove(ref: string, context: AuditContext): Promise<void> {
    const existing = await this.find(ref);
    if (
      !(await this.repo.deletePolicy(existing.id, this.clock.now(), policyAudit(context, 'notification-policy.delete', existing, policyView(existing), null)))
    )
      throw new NotFoundError(`no notification policy with id "${existing.id}"`);
    await this.router.load();
  }

  /** Reads the policies into the router again: after a transaction that changed them was rolled back (config apply). */
  async reload(): Promise<void> {
    await this.router.load();
  }

  settings(): RoutingSettingsView {
    return settingsView(this.router.current().settings.defaultRoute, this.router.current().settings.workingHours);
  }

  async setSettings(dto: RoutingSettingsDto, context: AuditContext): Promise<RoutingSettingsView> {
    const channels = await this.repo.channels();
    const errors: FieldError[] = [];
    const defaultRoute = dto.defaultRoute && this.resolveChannels(dto.defaultRoute, channels, 'defaultRoute', errors);
    if (errors.length > 0) throw new ValidationFailedError('invalid routing settings', errors);
    const before = this.settings();
    const stored: StoredSettings = { defaultRoute: defaultRoute ? storedSteps(defaultRoute) : null, workingHours: dto.workingHours };
    const after = settingsView(defaultRoute ?? null, dto.workingHours);
    await this.repo.saveSettings(JSON.stringify(stored), this.clock.now(), {
      context,
      action: 'notification-routing.set',
      target: { kind: 'notification-routing', id: null, name: null },
      before,
      after,
    });
    await this.router.load();
    return after;
  }

  /** Which policies take an alert with these labels and severity at `at` (default now), and whom each step reaches when. */
  async explain(dto: ExplainDto): Promise<RoutingExplanation> {
    const at = dto.at ?? this.clock.now();
    const { routes, verdicts } = this.router.routesOf(dto.labels, dto.severity, at);
    return { at, policies: verdicts, routes: routes.map((r) => r.policyName), steps: await this.planned(routes, at) };
  }

  /** The same for a known alert: judged when it fired (now for one not yet firing), with what its timeline recorded. */
  async explainAlert(alert: AlertView): Promise<AlertRoutingView> {
    const at = alert.firedAt ?? this.clock.now();
    const { routes, verdicts } = this.router.routesOf({ alertname: alert.name, ...alert.labels }, alert.severity, at);
    const recorded = await this.repo.episode(null, alert.fingerprint, alert.activeAt);
    const channels = await this.repo.channels();
    const named = (ids: readonly string[]) => ids.map((id) => ({ id, name: channels.find((c) => c.id === id)?.name ?? '(removed)' }));
    const steps: StepView[] =
      recorded.length === 0
        ? await this.planned(routes, at)
        : await Promise.all(
            recorded.map(async (s) => {
              const targets = JSON.parse(s.targetsJson) as RouteTarget[];
              const pending = s.status === 'pending' ? await this.router.resolve(targets, s.dueAt, channels) : undefined;
              return {
                policy: s.policyName,
                step: s.step,
                after: s.dueAt - s.createdAt,
                dueAt: s.dueAt,
                status: s.status,
                targets,
                channels: named(pending?.channelIds ?? (JSON.parse(s.channelIdsJson ?? '[]') as string[])),
                note: pending ? pending.notes.join('; ') || null : s.note,
                settledAt: s.settledAt,
              };
            }),
          );
    return {
      fingerprint: alert.fingerprint,
      name: alert.name,
      state: alert.state,
      at,
      policies: verdicts,
      routes: recorded.length === 0 ? routes.map((r) => r.policyName) : [...new Set(recorded.map((s) => s.policyName))],
      timeline: recorded.length === 0 ? 'planned' : 'recorded',
      steps,
      notified: named(channelsReached(recorded)),
    };
  }

  private async planned(routes: readonly Route[], at: number): Promise<StepView[]> {
    const channels = await this.repo.channels();
    const out: StepView[] = [];
    for (const route of routes) {
      for (const [i, step] of route.steps.entries()) {
        const resolved = await this.router.resolve(step.targets, at + step.afterMs, channels);
        out.push({
          policy: route.policyName,
          step: i,
          after: step.afterMs,
          dueAt: at + step.afterMs,
          status: 'planned',
          targets: step.targets,
          channels: resolved.channelIds.map((id) => ({ id, name: channels.find((c) => c.id === id)!.name })),
          note: resolved.notes.join('; ') || null,
          settledAt: null,
        });
      }
    }
    return out;
  }

  private async find(ref: string): Promise<NotificationPolicyEntity> {
    const policies = await this.repo.policies();
    const found = policies.find((p) => p.id === ref) ?? policies.find((p) => p.name === ref);
    if (!found) throw new NotFoundError(`no notification policy with id or name "${ref}" — list them with GET /api/v1/notification-policies`);
    return found;
  }

  /** The policy's rules with channel names turned into ids (a rename then keeps the route); an unknown channel is a field error. */
  private async rulesOf(dto: PolicyDto): Promise<StoredRules> {
    const errors: FieldError[] = [];
    const steps = this.resolveChannels(dto.steps, await this.repo.channels(), 'steps', errors);
    if (errors.length > 0) throw new ValidationFailedError('invalid notification policy', errors);
    return storedRules({ ...dto, steps });
  }

  private resolveChannels(steps: readonly EscalationStep[], channels: readonly ChannelRef[], field: string, errors: FieldError[]): EscalationStep[] {
    return steps.map((step, i) => ({
      afterMs: step.afterMs,
      targets: step.targets.map((t, j) => {
        if (!('channel' in t)) return t;
        const c = channels.find((k) => k.id === t.channel) ?? channels.find((k) => k.name === t.channel);
        if (c) return { channel: c.id };
        errors.push({
          field: `${field}.${i}.targets.${j}.channel`,
          message: `no notification channel with id or name "${t.channel}" — create it first (POST /api/v1/channels) or name another`,
        });
        return t;
      }),
    }));
  }
}

function policyView(p: NotificationPolicyEntity): PolicyView {
  return { id: p.id, name: p.name, position: p.position, ...(JSON.parse(p.rulesJson) as StoredRules), createdAt: p.createdAt, updatedAt: p.updatedAt };
}

function settingsView(defaultRoute: readonly EscalationStep[] | null, w: WeeklySpan): RoutingSettingsView {
  return { defaultRoute: defaultRoute ? storedSteps(defaultRoute) : null, workingHours: { timeZone: w.timeZone, days: [...w.days], from: w.start, to: w.end } };
}

function policyAudit(
  context: AuditContext,
  action: AuditDraft['action'],
  target: NotificationPolicyEntity,
  before: PolicyView | null,
  after: PolicyView | null,
): AuditDraft {
  return { context, action, target: { kind: 'notification-policy', id: target.id, name: target.name }, before, after };
}
