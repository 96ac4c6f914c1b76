import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DataSource } from 'typeorm';
import type { Severity } from '../alerting/alerts.js';
import { parseMatcher, type Labels, type Matcher } from '../alerting/matchers.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { inTransaction } from '../storage/transaction.js';
import { enqueueOutboxRows, type NewOutboxRow } from '../notifications/outbox.repository.js';
import { outboxKey } from '../notifications/outbox.service.js';
import type { NotificationMessage } from '../notifications/message.js';
import { NO_ON_CALL, ON_CALL_DIRECTORY, type OnCallDirectory } from '../notifications/on-call.js';
import { DEFAULT_ROUTING, type NotificationPolicy, type RouteTarget, type RoutingSettings, type StoredRules } from './policy.js';
import { selectRoutes, type PolicyVerdict, type Route } from './router.js';
import type { NotificationStepEntity } from './routing.entity.js';
import { RoutingRepository, type ChannelRef, type NewStep } from './routing.repository.js';

/** An alert engine notification as the router needs it (AlertingRepository.commit hands these over). */
export interface RoutableNotification {
  /** The engine's intent key (`<fingerprint>/<activeAt>/<n>/<kind>`). */
  key: string;
  fingerprint: string;
  /** The episode. */
  activeAt: number;
  alertName: string;
  /** What every channel receives; its `labels` (with `alertname`) and `severity` are what policies match. */
  payload: NotificationMessage;
}

/** A step's targets resolved to channels at an instant, and what they could not reach. */
export interface Resolved {
  channelIds: string[];
  notes: string[];
}

/** What routing decided before its transaction: the routes of each notification, and the immediate steps' channels. */
export interface RoutingPlan {
  items: { n: RoutableNotification; routes: Route[]; immediate: Map<string, Resolved> }[];
}

/** Whether a due step is still wanted: the alert engine's answer (see EscalationWorker). */
export type EscalationVerdict = { send: true } | { send: false; why: string };

/**
 * Routes alert notifications through the notification policies, and runs escalations.
 *
 * A "firing" goes to the immediate steps of the routes its alert takes at that moment (policies
 * are held in memory, reloaded when they change); later steps are written as pending rows with
 * their due time and sent when due if the alert still fires unacknowledged. Reminders and
 * "resolved" go to exactly the channels the episode's sent steps reached. Acknowledgement and
 * resolution cancel the pending steps in the transaction that records them.
 */
@Injectable()
export class NotificationRouter implements OnModuleInit {
  private readonly log = new Logger('Routing');
  private policies: NotificationPolicy[] = [];
  private settings: RoutingSettings = DEFAULT_ROUTING;
  private readonly directory: OnCallDirectory;
  private readonly listeners = new Set<() => void>();
  /** apply() wrote pending steps whose transaction has not committed yet (see committed()). */
  private scheduledUncommitted = false;

  constructor(
    private readonly repo: RoutingRepository,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Optional() @Inject(ON_CALL_DIRECTORY) directory?: OnCallDirectory,
  ) {
    this.directory = directory ?? NO_ON_CALL;
  }

  async onModuleInit(): Promise<void> {
    await this.load();
  }

  /** Reads the policies and settings (at start, and after every change to them). */
  async load(): Promise<void> {
    const [rows, settings] = await Promise.all([this.repo.policies(), this.repo.settings()]);
    this.policies = rows.map((r) => policyOf(r.id, r.name, r.position, JSON.parse(r.rulesJson) as StoredRules));
    this.settings = settings ? settingsOf(JSON.parse(settings) as StoredSettings) : DEFAULT_ROUTING;
  }

  current(): { policies: readonly NotificationPolicy[]; settings: RoutingSettings } {
    return { policies: this.policies, settings: this.settings };
  }

  /** Called when steps were scheduled (the escalation loop then looks again at what is due). */
  /**
   * Tells the listeners (the escalation worker) about steps apply() scheduled, once their
   * transaction committed: told from inside it, the worker read the due time on PostgreSQL from
   * another connection, found nothing and slept a minute (SQLite's one connection hid that).
   */
  committed(): void {
    if (!this.scheduledUncommitted) return;
    this.scheduledUncommitted = false;
    this.listeners.forEach((l) => l());
  }

  onScheduled(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  routesOf(labels: Labels, severity: Severity, at: number): { routes: Route[]; verdicts: PolicyVerdict[] } {
    return selectRoutes(this.policies, this.settings, labels, severity, at);
  }

  /**
   * Before the transaction: each notification's routes and the channels of its immediate steps
   * (on-call schedules are asked now). Reminders and "resolved" need them only for an episode
   * that has no steps yet (it fired before routing existed).
   */
  async plan(notifications: readonly RoutableNotification[], now: number): Promise<RoutingPlan> {
    if (notifications.length === 0) return { items: [] };
    const channels = await this.repo.channels();
    const items: RoutingPlan['items'] = [];
    for (const n of notifications) {
      const { routes } = this.routesOf(n.payload.labels, n.payload.severity, now);
      const immediate = new Map<string, Resolved>();
      for (const route of routes)
        for (let i = 0; i < route.steps.length && route.steps[i]!.afterMs === 0; i++)
          immediate.set(`${route.policyId}/${i}`, await this.resolve(route.steps[i]!.targets, now, channels));
      items.push({ n, routes, immediate });
    }
    return { items };
  }

  /**
   * In the alert engine's transaction: writes the timeline and returns the outbox rows. `acks`
   * and `resolved` (fingerprints) cancel pending steps, recorded with why.
   */
  async apply(m: EntityManager, plan: RoutingPlan, ends: readonly { fingerprint: string; why: string }[], now: number): Promise<NewOutboxRow[]> {
    // Read and written in batches: when a switch fails, two thousand alerts are routed in one commit.
    const stored = await this.repo.episodes(
      m,
      plan.items.map((i) => i.n.fingerprint),
    );
    const episodes = new Map<string, NotificationStepEntity[]>();
    for (const s of stored) {
      const episode = `${s.fingerprint}/${s.activeAt}`;
      episodes.set(episode, [...(episodes.get(episode) ?? []), s]);
    }
    const episodeOf = (n: RoutableNotification) => episodes.get(`${n.fingerprint}/${n.activeAt}`) ?? [];
    const rows: NewOutboxRow[] = [];
    const added: NewStep[] = [];
    const cancel = [...ends];
    for (const { n, routes, immediate } of plan.items) {
      let episode: Pick<NotificationStepEntity, 'key' | 'status' | 'channelIdsJson'>[] = episodeOf(n);
      if (n.payload.kind === 'firing') {
        const payloadJson = JSON.stringify(n.payload);
        const keys = new Set(episode.map((s) => s.key));
        const fresh = routes
          .flatMap((route) => route.steps.map((step, i) => newStep(n, route, i, step.afterMs, immediate.get(`${route.policyId}/${i}`), payloadJson, now)))
          .filter((s) => !keys.has(s.key));
        // A step already written (a severity change routes the episode again) keeps what it did; a pending one sends the newer message.
        if (episode.length > 0) await this.repo.updatePendingPayload(m, n.fingerprint, n.activeAt, payloadJson);
        added.push(...fresh);
        episode = [...episode, ...fresh];
      }
      const reached = episode.length > 0 ? channelsReached(episode) : [...new Set([...immediate.values()].flatMap((r) => r.channelIds))];
      for (const channelId of reached) rows.push({ key: outboxKey(n.key, channelId), channelId, payload: n.payload });
      if (n.payload.kind === 'resolved') cancel.push({ fingerprint: n.fingerprint, why: 'the alert resolved' });
    }
    await this.repo.insertSteps(m, added);
    await this.repo.cancelPending(m, cancel, now);
    if (added.some((s) => s.status === 'pending')) this.scheduledUncommitted = true;
    return rows;
  }

  /**
   * Sends or cancels the steps due at `now`; `verdict` says whether each alert still fires
   * unacknowledged. Targets are resolved outside the transaction (the on-call directory may read
   * the database); a step settled meanwhile (an acknowledgement won the race) sends nothing.
   */
  async escalateDue(
    now: number,
    verdict: (fingerprint: string, activeAt: number) => EscalationVerdict,
    limit = 100,
  ): Promise<{ sent: number; cancelled: number; more: boolean }> {
    const due = await this.repo.due(now, limit);
    if (due.length === 0) return { sent: 0, cancelled: 0, more: false };
    const channels = await this.repo.channels();
    const decided: { step: NotificationStepEntity; verdict: EscalationVerdict; resolved?: Resolved }[] = [];
    for (const step of due) {
      const v = verdict(step.fingerprint, step.activeAt);
      decided.push({ step, verdict: v, resolved: v.send ? await this.resolve(JSON.parse(step.targetsJson) as RouteTarget[], now, channels) : undefined });
    }
    let sent = 0;
    let cancelled = 0;
    await inTransaction(this.dataSource, async (m) => {
      for (const { step, verdict: v, resolved } of decided) {
        if (!v.send) {
          if (await this.repo.settle(m, step.id, { status: 'cancelled', note: v.why }, now)) cancelled++;
          continue;
        }
        const note = resolved!.notes.length > 0 ? resolved!.notes.join('; ') : null;
        if (!(await this.repo.settle(m, step.id, { status: 'sent', channelIds: resolved!.channelIds, note }, now))) continue;
        const payload = JSON.parse(step.payloadJson) as NotificationMessage;
        // A channel an earlier step reached has this message already: its outbox key makes it a no-op.
        await enqueueOutboxRows(
          m,
          resolved!.channelIds.map((channelId) => ({ key: outboxKey(payload.key, channelId), channelId, payload })),
          now,
        );
        sent++;
      }
    });
    if (sent > 0) this.log.log(`escalated ${sent} step(s)${cancelled > 0 ? `, cancelled ${cancelled}` : ''}`);
    return { sent, cancelled, more: due.length === limit };
  }

  nextDueAt(): Promise<number | null> {
    return this.repo.nextDueAt();
  }

  prune(before: number): Promise<number> {
    return this.repo.prune(before);
  }

  /** The channels `targets` reach at `at`: channels by id, schedules through the on-call directory, and what reaches nobody. */
  async resolve(targets: readonly RouteTarget[], at: number, channels?: readonly ChannelRef[]): Promise<Resolved> {
    const known = channels ?? (await this.repo.channels());
    const enabled = known.filter((c) => c.enabled);
    const ids: string[] = [];
    const notes: string[] = [];
    for (const t of targets) {
      if ('allChannels' in t) {
        ids.push(...enabled.map((c) => c.id));
      } else if ('channel' in t) {
        const c = known.find((k) => k.id === t.channel);
        if (!c) notes.push(`channel ${t.channel} no longer exists`);
        else if (!c.enabled) notes.push(`channel "${c.name}" is disabled`);
        else ids.push(c.id);
      } else {
        const answer = await this.directory.onCall(t.schedule, at);
        if (!answer) {
          notes.push(`there is no on-call schedule "${t.schedule}": it reaches nobody`);
          continue;
        }
        if (answer.disabled.length > 0)
          notes.push(`${answer.disabled.join(', ')} on call in "${t.schedule}" but disabled: not paged — enable the user or add an override`);
        if (answer.channelIds.length === 0) notes.push(`nobody on call in "${t.schedule}" has a channel`);
        else ids.push(...answer.channelIds.filter((id) => enabled.some((c) => c.id === id)));
      }
    }
    return { channelIds: [...new Set(ids)], notes };
  }
}

/** Step `i` of `route` for the notification's episode: sent now when it was immediate (`done`), else pending until due. */
function newStep(n: RoutableNotification, route: Route, i: number, afterMs: number, done: Resolved | undefined, payloadJson: string, now: number): NewStep {
  return {
    key: `${n.fingerprint}/${n.activeAt}/${route.policyId}/${i}`,
    fingerprint: n.fingerprint,
    activeAt: n.activeAt,
    alertName: n.alertName,
    policyId: route.policyId,
    policyName: route.policyName,
    step: i,
    dueAt: now + afterMs,
    targetsJson: JSON.stringify(route.steps[i]!.targets),
    channelIdsJson: done ? JSON.stringify(done.channelIds) : null,
    status: done ? 'sent' : 'pending',
    note: done && done.notes.length > 0 ? done.notes.join('; ') : null,
    payloadJson,
    createdAt: now,
    settledAt: done ? now : null,
  };
}

/** Who the episode's sent steps reached, in order, without repeats. */
export function channelsReached(episode: readonly Pick<NotificationStepEntity, 'status' | 'channelIdsJson'>[]): string[] {
  return [...new Set(episode.filter((s) => s.status === 'sent').flatMap((s) => JSON.parse(s.channelIdsJson ?? '[]') as string[]))];
}

function policyOf(id: string, name: string, position: number, rules: StoredRules): NotificationPolicy {
  return {
    id,
    name,
    position,
    matchers: rules.matchers.map((text) => parseMatcher(text) as Matcher),
    severities: rules.severities,
    time: rules.time,
    continue: rules.continue,
    steps: rules.steps.map((s) => ({ afterMs: s.after, targets: s.targets })),
  };
}

/** Routing settings as stored (steps with `after` in ms). */
export interface StoredSettings {
  defaultRoute: StoredRules['steps'] | null;
  workingHours: RoutingSettings['workingHours'];
}

function settingsOf(stored: StoredSettings): RoutingSettings {
  return {
    defaultRoute: stored.defaultRoute?.map((s) => ({ afterMs: s.after, targets: s.targets })) ?? null,
    workingHours: stored.workingHours,
  };
}
