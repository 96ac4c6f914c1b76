import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { formatInterval, REDACTED, redactSecrets } from '#rounds/common';
import type { FieldError } from '#rounds/plugins';
import { AgentsService } from '../inventory/agents.service.js';
import { ChecksService } from '../inventory/checks.service.js';
import { ChannelsService } from '../notifications/channels.service.js';
import { CHANNEL_JSON_SCHEMAS } from '../notifications/channel-config.js';
import { AlertingService, type AlertingChange } from '../alerting/alerting.service.js';
import { ruleView, type RuleView } from '../alerting/alert-views.js';
import { formatDuration, formatMatcher, ruleSchema, type CheckPolicyOverride, type MaintenanceWindow, type Rule } from '../alerting/index.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { PoliciesService, type PolicyView } from '../routing/policies.service.js';
import { storedRules, type RouteTarget, type StoredRules } from '../routing/policy.js';
import type { AuditContext } from '../audit/audit.types.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { oneTransaction } from '../storage/transaction.js';
import { CurrentState } from '../state/current-state.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import type { AgentEntity, CheckEntity, NotificationChannelEntity } from '../storage/entities/index.js';
import {
  API_VERSION,
  KIND,
  secretsAsReferences,
  secretVariable,
  sortedKeys,
  type ApplyConfigDto,
  type CheckEntry,
  type ConfigDocument,
  type PlanItem,
  type PlannedChange,
} from './config-document.js';

type Doc = Record<string, unknown>;

/** What is stored now and what the document asks for, object by object (see ConfigDocumentService.plan). */
interface Target {
  plan: PlanItem[];
  document: ConfigDocument;
  agents: Map<string, AgentEntity>;
  checks: Map<string, CheckEntity>;
  channels: Map<string, NotificationChannelEntity>;
  windows: Map<string, MaintenanceWindow>;
  rules: Rule[];
  policies: Map<string, PolicyView>;
}

export interface ApplyResult {
  plan: PlanItem[];
  /** False when there was nothing to change. */
  applied: boolean;
}

const checkKey = (agent: string, name: string) => `${agent}/${name}`;
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Configuration as code: the collector's agents, checks (with their alerting policies),
 * channels, alert rules and maintenance windows as one document, and that document applied —
 * planned object by object (matched by name), then carried out through the same services the
 * API calls, in one transaction with the alert engine's own commit: it all happens, audited
 * change by change, or nothing does.
 */
@Injectable()
export class ConfigDocumentService {
  constructor(
    private readonly agents: AgentsService,
    private readonly checks: ChecksService,
    private readonly channels: ChannelsService,
    private readonly alerting: AlertingService,
    private readonly routing: PoliciesService,
    private readonly audit: AuditRepository,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Optional() private readonly state?: CurrentState,
  ) {}

  /**
   * The document, sorted by name with a fixed key order, so that two exports of the same
   * configuration are the same text. Secrets are `{env: ROUNDS_SECRET_…}` references unless
   * `withSecrets` (audited: a copy of every password left the collector).
   */
  async export(withSecrets: boolean, context: AuditContext): Promise<Doc> {
    const agents = (await this.agents.listViews()).sort(byName);
    const agentNames = new Map(agents.map((a) => [a.id, a.name]));
    const checks = await Promise.all(agents.map(async (a) => (await this.checks.listViews(a.id)).sort(byName)));
    const entities = await Promise.all(checks.flat().map((c) => this.checks.get(c.id)));
    const channels = (await this.channels.list()).sort(byName);
    const document: Doc = {
      apiVersion: API_VERSION,
      kind: KIND,
      agents: await Promise.all(
        agents.map(async (a) => {
          const doc = agentDoc(a);
          return withSecrets ? { ...doc, token: (await this.agents.get(a.id)).token } : doc;
        }),
      ),
      checks: entities.map((c) => {
        const agent = agentNames.get(c.agentId)!;
        const config = withSecrets
          ? this.checks.plainConfig(c)
          : secretsAsReferences(this.checks.schemaOf(c), this.checks.plainConfig(c), ['check', agent, c.name]);
        return checkDoc(agent, c, config, this.alerting.checkPolicyOverride(c.id), this.checks.view(c).dependsOn);
      }),
      channels: channels.map((c) => {
        const config = JSON.parse(c.configJson) as unknown;
        return channelDoc(c, withSecrets ? config : secretsAsReferences(CHANNEL_JSON_SCHEMAS[c.type], config, ['channel', c.name]));
      }),
      rules: this.alerting.rules().sort(byName),
      maintenance: this.alerting
        .maintenanceWindows()
        .map(({ open: _open, next: _next, ...w }) => windowDoc(w))
        .sort((a, b) => byName(a as { name: string }, b as { name: string })),
      notificationPolicies: (await this.routing.list()).sort((a, b) => a.position - b.position).map((p) => notificationPolicyDoc(p, channelNames(channels))),
    };
    if (withSecrets)
      await this.audit.append({ context, action: 'config.export-secrets', target: { kind: 'config', id: null, name: null }, before: null, after: null });
    return document;
  }

  /** What applying the document would change (nothing is written); refused with every error's path when the document cannot be applied. */
  async plan(dto: ApplyConfigDto): Promise<PlanItem[]> {
    return (await this.target(dto.document, dto.prune)).plan;
  }

  /**
   * Applies the document: the plan's changes in one transaction through the services (their
   * validation, audit rows and read-model refreshes). A second apply of the same document
   * plans nothing and writes nothing. On any error nothing is stored, and the read model is
   * re-read for every agent the attempt touched.
   */
  async apply(dto: ApplyConfigDto, context: AuditContext): Promise<ApplyResult> {
    const target = await this.target(dto.document, dto.prune);
    if (target.plan.length === 0) return { plan: [], applied: false };
    const touched = new Set<string>([...target.agents.values()].map((a) => a.id));
    try {
      await this.alerting.configure(context, (applyAlerting) =>
        oneTransaction(this.dataSource, async () => {
          await this.carryOut(target, context, touched, applyAlerting);
        }),
      );
    } catch (e) {
      // Services refreshed the read model (and the router its policies) from uncommitted rows as they went: read them again.
      if (this.state) for (const id of touched) await this.state.refreshAgent(id);
      await this.routing.reload();
      throw e;
    }
    return { plan: target.plan, applied: true };
  }

  private async carryOut(target: Target, context: AuditContext, touched: Set<string>, applyAlerting: (change: AlertingChange) => Promise<void>): Promise<void> {
    const { document: doc, plan } = target;
    const planned = (kind: PlanItem['kind'], name: string) => plan.find((p) => p.kind === kind && p.name === name);
    // Channels first: nothing refers to them.
    for (const [i, c] of doc.channels.entries()) {
      const item = planned('channel', c.name);
      if (!item) continue;
      const existing = target.channels.get(c.name);
      await at(`document.channels.${i}`, () =>
        existing ? this.channels.update(existing.id, { config: c.config, enabled: c.enabled }, context) : this.channels.create(c, context),
      );
    }
    const agentIds = new Map([...target.agents].map(([name, a]) => [name, a.id]));
    for (const [i, a] of doc.agents.entries()) {
      const item = planned('agent', a.name);
      if (!item) continue;
      const existing = target.agents.get(a.name);
      if (existing) await at(`document.agents.${i}`, () => this.agents.update(existing.id, { tags: a.tags }, context));
      else {
        const created = await at(`document.agents.${i}`, () =>
          this.agents.enrol({ name: a.name, enrol: { host: a.host, port: a.port, token: a.token!, fingerprint: a.fingerprint }, tags: a.tags }, context),
        );
        agentIds.set(a.name, created.id);
        touched.add(created.id);
      }
    }
    const checkIds = new Map<string, string>();
    for (const [key, c] of target.checks) checkIds.set(key, c.id);
    const policies: AlertingChange['policies'] = [];
    for (const [i, c] of doc.checks.entries()) {
      const key = checkKey(c.agent, c.name);
      const item = planned('check', key);
      const existing = target.checks.get(key);
      if (item && existing) {
        const patch = { config: c.config, intervalMs: c.intervalMs, timeoutMs: timeoutOf(c), enabled: c.enabled, tags: c.tags };
        await at(`document.checks.${i}`, () => this.checks.update(existing.id, patch, context));
      } else if (item) {
        const created = await at(`document.checks.${i}`, () =>
          this.checks.create(
            {
              agent: agentIds.get(c.agent)!,
              plugin: c.plugin,
              name: c.name,
              config: c.config,
              intervalMs: c.intervalMs,
              timeoutMs: timeoutOf(c),
              enabled: c.enabled,
              tags: c.tags,
              // Set below, once every check of the document exists: a parent may come later in the list.
              dependsOn: [],
            },
            context,
          ),
        );
        checkIds.set(key, created.id);
      }
      const id = checkIds.get(key)!;
      const want = c.policy ?? null;
      if (!samePolicy(this.alerting.checkPolicyOverride(id), want)) policies.push({ checkId: id, checkName: c.name, override: want });
    }
    // Dependencies after every agent and check exists (a cycle or an unknown parent is refused by the services, at the entry's path).
    const changesDependencies = (item: PlanItem | undefined) =>
      item?.changes.some((ch) => ch.path === 'dependsOn' || ch.path.startsWith('dependsOn.')) ?? false;
    for (const [i, a] of doc.agents.entries()) {
      if (changesDependencies(planned('agent', a.name)))
        await at(`document.agents.${i}`, () => this.agents.update(agentIds.get(a.name)!, { dependsOn: a.dependsOn }, context));
    }
    for (const [i, c] of doc.checks.entries()) {
      const key = checkKey(c.agent, c.name);
      if (changesDependencies(planned('check', key)))
        await at(`document.checks.${i}`, () => this.checks.update(checkIds.get(key)!, { dependsOn: c.dependsOn }, context));
    }
    // Deletions last, checks before their agents (an agent's removal takes its checks anyway).
    for (const item of plan.filter((p) => p.action === 'delete')) {
      if (item.kind === 'check') await this.checks.remove(target.checks.get(item.name)!.id, context);
    }
    for (const item of plan.filter((p) => p.action === 'delete')) {
      if (item.kind === 'agent') await this.agents.remove(target.agents.get(item.name)!.id, context);
      if (item.kind === 'channel') await this.channels.remove(target.channels.get(item.name)!.id, context);
    }
    const rulesChanged = plan.some((p) => p.kind === 'rule');
    const putWindows = doc.maintenance
      .filter((w) => planned('maintenance', w.name))
      .map((w) => ({ ...w, id: target.windows.get(w.name)?.id ?? randomUUID(), comment: w.comment }));
    const removeWindows = plan.filter((p) => p.kind === 'maintenance' && p.action === 'delete').map((p) => target.windows.get(p.name)!.id);
    await applyAlerting({ ...(rulesChanged ? { rules: target.rules } : {}), putWindows, removeWindows, policies });

    // Notification policies after the channels they name; each at its place in the document's list.
    for (const item of plan.filter((p) => p.kind === 'notification-policy' && p.action === 'delete'))
      await this.routing.remove(target.policies.get(item.name)!.id, context);
    for (const [i, p] of doc.notificationPolicies.entries()) {
      if (!planned('notification-policy', p.name)) continue;
      const existing = target.policies.get(p.name);
      await at(`document.notificationPolicies.${i}`, () =>
        existing ? this.routing.replace(existing.id, { ...p, position: i }, context) : this.routing.create({ ...p, position: i }, context),
      );
    }
  }

  /** The stored configuration against the document: the plan, and what carrying it out needs; every error the document has, with its path. */
  private async target(document: ConfigDocument, prune: boolean): Promise<Target> {
    const errors: FieldError[] = [];
    const agentViews = await this.agents.listViews();
    const agents = new Map<string, AgentEntity>();
    for (const v of agentViews) agents.set(v.name, await this.agents.get(v.id));
    const agentNames = new Map([...agents.values()].map((a) => [a.id, a.name]));
    const checks = new Map<string, CheckEntity>();
    for (const v of await this.checks.listViews()) checks.set(checkKey(agentNames.get(v.agentId)!, v.name), await this.checks.get(v.id));
    const channels = new Map((await this.channels.list()).map((c) => [c.name, c]));
    const windows = new Map(this.alerting.maintenanceWindows().map(({ open: _o, next: _n, ...w }) => [w.name, w]));
    const currentRules = this.alerting.rules();
    const policies = new Map((await this.routing.list()).map((p) => [p.name, p]));
    const plan: PlanItem[] = [];

    // Agents
    const docAgents = new Set(document.agents.map((a) => a.name));
    document.agents.forEach((a, i) => {
      const existing = agents.get(a.name);
      if (!existing) {
        if (a.token === undefined)
          errors.push({
            field: `document.agents.${i}.token`,
            message: `agent ${a.name} is new to this collector: give its token, e.g. token: {env: ${secretVariable('agent', a.name, 'token')}} (the part before the @ in its enrolment string)`,
          });
        plan.push({ action: 'create', kind: 'agent', name: a.name, changes: diff({}, agentDoc(a)) });
        return;
      }
      for (const field of ['host', 'port', 'fingerprint'] as const) {
        if (existing[field] !== a[field])
          errors.push({
            field: `document.agents.${i}.${field}`,
            message: `agent ${a.name} is enrolled with ${field} ${existing[field]}: an enrolled agent's address and certificate do not change by apply — remove it and enrol it again`,
          });
      }
      const changes = diff(agentDoc(this.agents.view(existing)), agentDoc(a));
      if (changes.length > 0) plan.push({ action: 'update', kind: 'agent', name: a.name, changes });
    });
    if (prune) for (const name of agents.keys()) if (!docAgents.has(name)) plan.push({ action: 'delete', kind: 'agent', name, changes: [] });

    // Checks
    const docChecks = new Set(document.checks.map((c) => checkKey(c.agent, c.name)));
    for (const [i, c] of document.checks.entries()) {
      const agent = agents.get(c.agent);
      if (!agent && !docAgents.has(c.agent)) {
        errors.push({ field: `document.checks.${i}.agent`, message: `no agent named "${c.agent}" in the document or on the collector` });
        continue;
      }
      if (agent && prune && !docAgents.has(c.agent)) {
        errors.push({
          field: `document.checks.${i}.agent`,
          message: `agent "${c.agent}" is not in the document, so --prune would remove it: add it to agents or drop the check`,
        });
        continue;
      }
      const key = checkKey(c.agent, c.name);
      const existing = checks.get(key);
      if (existing && existing.plugin !== c.plugin) {
        errors.push({
          field: `document.checks.${i}.plugin`,
          message: `check ${key} uses plugin ${existing.plugin}: a check's plugin does not change — give the new check another name`,
        });
        continue;
      }
      for (const e of await this.checks.configErrors(c.plugin, c.config, agent)) errors.push({ ...e, field: `document.checks.${i}.${e.field}` });
      const schema = this.checks.schemaOf({ plugin: c.plugin, agentId: agent?.id ?? '' });
      const want = checkDoc(c.agent, { ...c, timeoutMs: timeoutOf(c) }, c.config, c.policy ?? null, c.dependsOn);
      if (!existing) {
        plan.push({ action: 'create', kind: 'check', name: key, changes: diff({}, want, schema) });
        continue;
      }
      const have = checkDoc(
        c.agent,
        existing,
        this.checks.plainConfig(existing),
        this.alerting.checkPolicyOverride(existing.id),
        this.checks.view(existing).dependsOn,
      );
      const changes = diff(have, want, schema);
      if (changes.length > 0) plan.push({ action: 'update', kind: 'check', name: key, changes });
    }
    if (prune) for (const key of checks.keys()) if (!docChecks.has(key)) plan.push({ action: 'delete', kind: 'check', name: key, changes: [] });

    // Dependencies name agents and checks of the document or the collector (a cycle is refused when applied, by the services).
    const knownAgents = new Set([...docAgents, ...agents.keys(), ...[...agents.values()].map((a) => a.id)]);
    const knownChecks = new Set([...docChecks, ...checks.keys(), ...[...checks.values()].map((c) => c.id)]);
    const unknownParent = (ref: string) => (ref.startsWith('agent:') ? !knownAgents.has(ref.slice(6)) : !knownChecks.has(ref.slice(6)));
    const parentErrors = (section: 'agents' | 'checks', i: number, parents: readonly string[]) =>
      parents.forEach((ref, k) => {
        if (unknownParent(ref))
          errors.push({
            field: `document.${section}.${i}.dependsOn.${k}`,
            message: `no ${ref.startsWith('agent:') ? 'agent' : 'check'} "${ref.slice(6)}" in the document or on the collector`,
          });
      });
    document.agents.forEach((a, i) => parentErrors('agents', i, a.dependsOn));
    document.checks.forEach((c, i) => parentErrors('checks', i, c.dependsOn));

    // Channels
    const docChannels = new Set(document.channels.map((c) => c.name));
    document.channels.forEach((c, i) => {
      const existing = channels.get(c.name);
      const schema = CHANNEL_JSON_SCHEMAS[c.type];
      if (!existing) {
        plan.push({ action: 'create', kind: 'channel', name: c.name, changes: diff({}, channelDoc(c, c.config), schema) });
        return;
      }
      if (existing.type !== c.type) {
        errors.push({
          field: `document.channels.${i}.type`,
          message: `channel ${c.name} is a ${existing.type} channel: a channel's type does not change — give the new channel another name`,
        });
        return;
      }
      const changes = diff(channelDoc(existing, JSON.parse(existing.configJson)), channelDoc(c, c.config), schema);
      if (changes.length > 0) plan.push({ action: 'update', kind: 'channel', name: c.name, changes });
    });
    if (prune) for (const name of channels.keys()) if (!docChannels.has(name)) plan.push({ action: 'delete', kind: 'channel', name, changes: [] });

    // Rules: the engine keeps one list; without --prune the rules the document leaves out stay.
    const docRules = new Map(document.rules.map((r) => [r.name, r]));
    const rules: Rule[] = [];
    for (const r of currentRules) {
      const want = docRules.get(r.name);
      if (want) {
        const changes = diff(ruleView(ruleOf(r)), ruleView(want));
        if (changes.length > 0) plan.push({ action: 'update', kind: 'rule', name: r.name, changes });
        rules.push(want);
      } else if (prune) plan.push({ action: 'delete', kind: 'rule', name: r.name, changes: [] });
      else rules.push(ruleOf(r));
    }
    for (const r of document.rules) {
      if (currentRules.some((c) => c.name === r.name)) continue;
      plan.push({ action: 'create', kind: 'rule', name: r.name, changes: diff({}, ruleView(r)) });
      rules.push(r);
    }

    // Maintenance windows
    const docWindows = new Set(document.maintenance.map((w) => w.name));
    for (const w of document.maintenance) {
      const existing = windows.get(w.name);
      const changes = diff(existing ? windowDoc(existing) : {}, windowDoc(w));
      if (!existing) plan.push({ action: 'create', kind: 'maintenance', name: w.name, changes });
      else if (changes.length > 0) plan.push({ action: 'update', kind: 'maintenance', name: w.name, changes });
    }
    if (prune) for (const name of windows.keys()) if (!docWindows.has(name)) plan.push({ action: 'delete', kind: 'maintenance', name, changes: [] });

    // Notification policies: their place in the list is part of each (the first that matches takes an alert).
    const docPolicies = new Set(document.notificationPolicies.map((p) => p.name));
    const names = channelNames([...channels.values()]);
    const docChannelNames = new Set(document.channels.map((c) => c.name));
    document.notificationPolicies.forEach((p, i) => {
      const want = { ...notificationPolicyDoc({ name: p.name, ...storedRules(p) }, names), position: i };
      want.steps.forEach((step, k) =>
        step.targets.forEach((t, j) => {
          if ('channel' in t && !channels.has(t.channel) && !docChannelNames.has(t.channel))
            errors.push({
              field: `document.notificationPolicies.${i}.steps.${k}.targets.${j}.channel`,
              message: `no channel named "${t.channel}" in the document or on the collector`,
            });
        }),
      );
      const existing = policies.get(p.name);
      // Order among the document's own policies: one the document leaves out (kept without --prune) does not move the others' places.
      const position = existing
        ? [...policies.values()]
            .filter((q) => docPolicies.has(q.name))
            .sort((a, b) => a.position - b.position)
            .indexOf(existing)
        : -1;
      const changes = diff(existing ? { ...notificationPolicyDoc(existing, names), position } : {}, want);
      if (!existing) plan.push({ action: 'create', kind: 'notification-policy', name: p.name, changes });
      else if (changes.length > 0) plan.push({ action: 'update', kind: 'notification-policy', name: p.name, changes });
    });
    if (prune) for (const name of policies.keys()) if (!docPolicies.has(name)) plan.push({ action: 'delete', kind: 'notification-policy', name, changes: [] });

    if (errors.length > 0) throw new ValidationFailedError('invalid config document', errors);
    return { plan, document, agents, checks, channels, windows, rules, policies };
  }
}

/** A rule back from its view (the document's own form of a rule, which ruleSchema reads). */
function ruleOf(view: RuleView): Rule {
  return ruleSchema.parse(view);
}

/** Runs one service call for the document entry at `path`: its refusal names the entry's fields. */
async function at<T>(path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ValidationFailedError)
      throw new ValidationFailedError(
        'invalid config document',
        e.errors.map((f) => ({ ...f, field: f.field ? `${path}.${f.field}` : path })),
      );
    if (e instanceof ConflictError || e instanceof NotFoundError)
      throw new ValidationFailedError('invalid config document', [
        { field: e instanceof ConflictError && e.field ? `${path}.${e.field}` : path, message: e.message },
      ]);
    throw e;
  }
}

function timeoutOf(c: Pick<CheckEntry, 'intervalMs' | 'timeoutMs'>): number {
  // As the API's createCheckDto: 10 s, or the interval when that is shorter.
  return c.timeoutMs ?? Math.min(10_000, c.intervalMs);
}

function samePolicy(a: CheckPolicyOverride | null, b: CheckPolicyOverride | null): boolean {
  const empty = (p: CheckPolicyOverride | null) => p === null || Object.keys(p).length === 0;
  if (empty(a) && empty(b)) return true;
  return JSON.stringify(sortedKeys(a)) === JSON.stringify(sortedKeys(b));
}

// ---- the document's form of each kind (fixed key order) ----------------------------------------

function agentDoc(a: { name: string; host: string; port: number; fingerprint: string; tags: Record<string, string>; dependsOn: readonly string[] }): Doc {
  return { name: a.name, host: a.host, port: a.port, fingerprint: a.fingerprint, tags: sortedKeys(a.tags), ...dependsOnDoc(a.dependsOn) };
}

/** Dependencies only when there are some, so a document that uses none reads as before they existed. */
function dependsOnDoc(parents: readonly string[]): Doc {
  return parents.length > 0 ? { dependsOn: [...parents] } : {};
}

function checkDoc(
  agent: string,
  c: { name: string; plugin: string; enabled: boolean; intervalMs: number; timeoutMs: number; tags?: Record<string, string>; tagsJson?: string },
  config: unknown,
  policy: CheckPolicyOverride | null,
  dependsOn: readonly string[],
): Doc {
  const tags = c.tags ?? (c.tagsJson ? (JSON.parse(c.tagsJson) as Record<string, string>) : {});
  return {
    agent,
    name: c.name,
    plugin: c.plugin,
    enabled: c.enabled,
    intervalMs: formatInterval(c.intervalMs),
    timeoutMs: formatInterval(c.timeoutMs),
    tags: sortedKeys(tags),
    config: sortedKeys(config),
    ...dependsOnDoc(dependsOn),
    ...(policy && Object.keys(policy).length > 0 ? { policy: policyDoc(policy) } : {}),
  };
}

function policyDoc(p: CheckPolicyOverride): Doc {
  const { repeatMs, ...rest } = p;
  return sortedKeys({ ...rest, ...(repeatMs === undefined || repeatMs === null ? {} : { repeat: formatDuration(repeatMs) }) }) as Doc;
}

/** Channel names by id: the document names channels, the routing tables hold their ids. */
function channelNames(channels: readonly { id: string; name: string }[]): Map<string, string> {
  return new Map(channels.map((c) => [c.id, c.name]));
}

/** A notification policy as the document writes it: channels by name, `after` as a duration, defaults left out. */
function notificationPolicyDoc(
  p: { name: string } & StoredRules,
  channelNameOf: ReadonlyMap<string, string>,
): { name: string; steps: { after: string; targets: RouteTarget[] }[] } & Doc {
  return {
    name: p.name,
    ...(p.matchers.length > 0 ? { matchers: [...p.matchers] } : {}),
    ...(p.severities.length > 0 ? { severities: [...p.severities] } : {}),
    ...(p.time ? { time: sortedKeys(p.time) } : {}),
    ...(p.continue ? { continue: true } : {}),
    steps: p.steps.map((step) => ({
      after: formatDuration(step.after),
      targets: step.targets.map((t) => ('channel' in t ? { channel: channelNameOf.get(t.channel) ?? t.channel } : t)),
    })),
  };
}

function channelDoc(c: { name: string; type: string; enabled?: boolean }, config: unknown): Doc {
  return { name: c.name, type: c.type, enabled: c.enabled ?? true, config: sortedKeys(config) };
}

function windowDoc(w: MaintenanceWindow): Doc {
  const base = { name: w.name, kind: w.kind, matchers: w.matchers.map(formatMatcher), ...(w.comment === null ? {} : { comment: w.comment }) };
  if (w.kind === 'once') return { ...base, startsAt: new Date(w.startsAt).toISOString(), endsAt: new Date(w.endsAt).toISOString() };
  return { ...base, timeZone: w.timeZone, start: w.start, end: w.end, ...(w.kind === 'weekly' ? { days: w.days } : {}) };
}

/**
 * The leaves that differ between two document entries, `from`/`to` with secrets redacted
 * (`configSchema` marks them in the entry's config).
 */
function diff(from: object, to: object, configSchema?: unknown): PlannedChange[] {
  const schema = { properties: { config: configSchema } };
  const a = redactSecrets(schema, from) as Doc;
  const b = redactSecrets(schema, to) as Doc;
  const changes: PlannedChange[] = [];
  const walk = (x: unknown, y: unknown, rawX: unknown, rawY: unknown, path: string) => {
    if (isPlain(x) && isPlain(y) && isPlain(rawX) && isPlain(rawY)) {
      for (const k of [...new Set([...Object.keys(rawX), ...Object.keys(rawY)])].sort()) walk(x[k], y[k], rawX[k], rawY[k], path ? `${path}.${k}` : k);
      return;
    }
    if (JSON.stringify(sortedKeys(rawX)) === JSON.stringify(sortedKeys(rawY))) return;
    // A secret that changed shows as the placeholder on both sides: say so.
    const secret = x === REDACTED && y === REDACTED;
    changes.push({ path, from: x ?? null, to: secret ? `${REDACTED} (changed)` : (y ?? null) });
  };
  walk(a, b, from, to, '');
  return changes;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
