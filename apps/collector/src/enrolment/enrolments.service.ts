import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { agentProof, claimProof, makeNonce, makeSiteKey, proofsEqual, sha256, siteKeyVerifier, type Clock } from '#rounds/common';
import { EnrolState, type AgentDescription, type EnrolChallengeResponse } from '#rounds/common/wire';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';
import type { CollectorConfig } from '../config/env.js';
import { AgentCallError, AgentClientPool, type EnrolTarget } from '../inventory/agent-client.pool.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { AgentsService } from '../inventory/agents.service.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { parseTags, tagsText, type Tags } from '../shared/tags.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { uniqueViolation } from '../shared/unique-violation.js';
import { CurrentState } from '../state/current-state.js';
import type { EnrolmentEntity, EnrolmentState } from './enrolment.entity.js';
import type { ENROLMENT_SORT_KEYS, EnrolLine, ListEnrolmentsQuery } from './enrolment.dto.js';
import { byText, nameContains, type Matchers } from '../shared/dto.js';
import { EnrolmentsRepository, type StoredSiteKey } from './enrolments.repository.js';

/** A line of a submitted list as the API and the page show it: never a token. */
export interface EnrolmentView {
  id: string;
  batch: string;
  line: number;
  name: string;
  address: string;
  tags: Tags;
  state: EnrolmentState;
  /** What the agent said about itself at first contact: its own id, host name and release. */
  agent: { id: string; hostname: string | null; version: string | null } | null;
  /** SHA-256 of the certificate it presented: what a person approves, and the claim pins. */
  fingerprint: string | null;
  /** Why it failed, or why the last approval did not go through. */
  error: string | null;
  /** The agent registered from it (an id for /api/v1/agents). */
  enrolledAs: string | null;
  submittedBy: string;
  approvedBy: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The orders of `GET /enrolments?sort=`; `submitted` is the list's own (newest list first, then line by line). */
export const ENROLMENT_ORDER: Record<(typeof ENROLMENT_SORT_KEYS)[number], (a: EnrolmentView, b: EnrolmentView) => number> = {
  submitted: () => 0,
  name: byText((e) => e.name),
  state: byText((e) => e.state),
};

/** `batch` and `state` are read from the table; `name` narrows what it gives. */
export const ENROLMENT_FILTERS: Matchers<EnrolmentView, ListEnrolmentsQuery> = { name: (e, name) => nameContains(e.name, name) };

export interface SiteKeyStatus {
  set: boolean;
  createdAt: number | null;
  createdBy: string | null;
}

export interface EnrolmentOptions {
  /** Rows contacted or claimed at once. */
  concurrency: number;
  /** Rows taken per round. */
  batch: number;
  /** How long a taken row is this collector's: longer than the calls its work makes. */
  leaseMs: number;
  /** Longest sleep of the loop with nothing to do (a submission or approval wakes it at once). */
  idleMs: number;
}

export const ENROLMENT_OPTIONS = Symbol('ENROLMENT_OPTIONS');
export const DEFAULT_ENROLMENT_OPTIONS: EnrolmentOptions = Object.freeze({ concurrency: 8, batch: 32, leaseMs: 120_000, idleMs: 10_000 });

/** Verifiers kept (per site key and agent): scrypt costs ~50 ms, and contact and claim need the same one. */
const VERIFIER_CACHE = 4096;
const RE_INIT = 'run `rounds-agent init --force --site-key-file …` on it with this collector’s site key';

const short = (agentUid: string) => `${agentUid.slice(0, 8)}…`;
const addressOf = (r: Pick<EnrolmentEntity, 'host' | 'port'>) => `${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`;

/** How a row ends a round of work: done with, failed for good, or back to waiting for a person with why. */
type Outcome = { state: 'failed'; error: string } | { state: 'pending'; error: string } | { state: 'done' };

/**
 * Enrolling many agents with the site key. An admin holds the key here (sealed, audited) and
 * installs agents with it; a submitted list of `name,address[,tags]` is contacted line by line —
 * each agent says who it is and proves it was installed with the key — and waits for a person
 * to approve its certificate fingerprint; approved, it is claimed (the collector proves it holds
 * the key, giving the agent its token) and registered as an agent, which the poller then polls.
 * The work runs in the background on rows leased in the database, so it survives a restart and
 * is shared by collectors on one database. Every line ends enrolled, or with a reason that names
 * the agent and what to do — never claimed without being registered: the token is kept (sealed)
 * on the row from just before the claim until the agent is registered.
 */
@Injectable()
export class EnrolmentsService {
  private readonly log = new Logger('Enrolment');
  private readonly verifiers = new Map<string, Promise<Buffer>>();
  private readonly options: EnrolmentOptions;
  private running = false;
  /** Set by stop(): a round under way takes no further row of its batch. */
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private timer: unknown;

  constructor(
    private readonly enrolments: EnrolmentsRepository,
    private readonly agentsRepository: AgentsRepository,
    private readonly agents: AgentsService,
    private readonly pool: AgentClientPool,
    @Inject(COLLECTOR_CONFIG) private readonly config: Pick<CollectorConfig, 'pollTimeoutMs'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(ENROLMENT_OPTIONS) options?: Partial<EnrolmentOptions>,
    @Optional() private readonly state?: CurrentState,
  ) {
    this.options = { ...DEFAULT_ENROLMENT_OPTIONS, ...options };
  }

  // ---- the site key ---------------------------------------------------------------

  async siteKeyStatus(): Promise<SiteKeyStatus> {
    const key = await this.enrolments.siteKey();
    return { set: key !== null, createdAt: key?.createdAt ?? null, createdBy: key?.createdBy ?? null };
  }

  /** A new random site key in place of any other; shown once (the answer), kept sealed. */
  async makeSiteKey(context: AuditContext): Promise<SiteKeyStatus & { key: string }> {
    const key = makeSiteKey();
    const stored = await this.enrolments.replaceSiteKey(key, context.actor, this.clock.now(), (s) => this.siteKeyAudit('site-key.create', s, context));
    this.log.log(`${context.actor} made a new site key: agents installed with the old one can no longer be claimed here`);
    return { set: true, createdAt: stored.createdAt, createdBy: stored.createdBy, key };
  }

  /** A site key made elsewhere (agents already installed with it). */
  async setSiteKey(key: string, context: AuditContext): Promise<SiteKeyStatus> {
    const stored = await this.enrolments.replaceSiteKey(key, context.actor, this.clock.now(), (s) => this.siteKeyAudit('site-key.set', s, context));
    this.log.log(`${context.actor} set the site key`);
    return { set: true, createdAt: stored.createdAt, createdBy: stored.createdBy };
  }

  /** No site key any more: lists cannot be submitted, and waiting lines cannot be claimed. */
  async removeSiteKey(context: AuditContext): Promise<void> {
    const removed = await this.enrolments.removeSiteKey(() => ({
      context,
      action: 'site-key.remove',
      target: { kind: 'site-key', id: null, name: null },
      before: { set: true },
      after: null,
    }));
    if (!removed) throw new NotFoundError('there is no site key to remove');
  }

  private siteKeyAudit(action: 'site-key.create' | 'site-key.set', s: StoredSiteKey, context: AuditContext): AuditDraft {
    return { context, action, target: { kind: 'site-key', id: s.id, name: null }, before: null, after: { createdAt: s.createdAt } };
  }

  // ---- lists, approvals -----------------------------------------------------------

  /**
   * Stores a list: a line whose name is taken (by an agent, a line still waiting, or an earlier
   * line of this list) or whose address an earlier line lists fails at once, saying so; the rest
   * are contacted in the background. Audited as `enrolment.submit`.
   */
  async submit(lines: readonly EnrolLine[], context: AuditContext): Promise<{ batch: string; enrolments: EnrolmentView[] }> {
    if (!(await this.enrolments.siteKey())) {
      throw new ConflictError(
        'there is no site key yet: make one (Agents → Enrol many agents, or POST /api/v1/site-key), install the agents with it, then submit the list',
      );
    }
    const names = [...new Set(lines.map((l) => l.name))];
    const waiting = new Map((await this.enrolments.findActive({ names })).map((r) => [r.name, r]));
    const agents = new Map((await this.agents.listViews()).map((a) => [a.name, a]));
    const firstName = new Map<string, number>();
    const firstAddress = new Map<string, number>();
    const rows = lines.map((l) => {
      const address = addressOf(l);
      const agent = agents.get(l.name);
      const other = waiting.get(l.name);
      const error = agent
        ? `the name ${l.name} is taken by agent ${agent.name} (${agent.host}:${agent.port}) — pick another name`
        : other
          ? `the name ${l.name} is already waiting for enrolment (line ${other.line} of an earlier list) — pick another name, or dismiss that line`
          : firstName.has(l.name)
            ? `line ${firstName.get(l.name)} names ${l.name} already — pick another name`
            : firstAddress.has(address.toLowerCase())
              ? `line ${firstAddress.get(address.toLowerCase())} lists ${address} already`
              : null;
      // Only a line that goes ahead speaks for its name and address.
      if (!error) {
        firstName.set(l.name, l.line);
        firstAddress.set(address.toLowerCase(), l.line);
      }
      return {
        line: l.line,
        name: l.name,
        host: l.host,
        port: l.port,
        tagsJson: tagsText(l.tags),
        state: error ? ('failed' as const) : ('contacting' as const),
        error,
      };
    });
    const batch = randomUUID();
    const stored = await this.enrolments.insertBatch(batch, rows, context.actor, this.clock.now(), {
      context,
      action: 'enrolment.submit',
      target: { kind: 'enrolment-list', id: batch, name: `${rows.length} agent${rows.length === 1 ? '' : 's'}` },
      before: null,
      after: rows.map((r) => ({ line: r.line, name: r.name, address: addressOf(r), tags: parseTags(r.tagsJson), ...(r.error ? { error: r.error } : {}) })),
    });
    this.log.log(`${context.actor} submitted ${rows.length} agents to enrol with the site key (list ${batch})`);
    this.wake();
    return { batch, enrolments: stored.map((r) => this.view(r)) };
  }

  async list(filter: { batch?: string | undefined; state?: EnrolmentState | undefined } = {}): Promise<EnrolmentView[]> {
    return (await this.enrolments.list({ batchId: filter.batch, state: filter.state })).map((r) => this.view(r));
  }

  async get(id: string): Promise<EnrolmentView> {
    const row = await this.enrolments.findById(id);
    if (!row) throw new NotFoundError(`no enrolment with id "${id}"`);
    return this.view(row);
  }

  /**
   * A person compared the fingerprints and approves: all of `ids` must wait for approval, or
   * nothing is approved (the refusal names each line that does not). Audited as
   * `enrolment.approve` with the names and fingerprints approved; the claims follow in the background.
   */
  async approve(ids: readonly string[], context: AuditContext): Promise<EnrolmentView[]> {
    const unique = [...new Set(ids)];
    const rows = await Promise.all(unique.map((id) => this.enrolments.findById(id)));
    const missing = unique.filter((_, i) => !rows[i]);
    if (missing.length > 0)
      throw new NotFoundError(`no enrolment with id ${missing.map((m) => JSON.stringify(m)).join(', ')} — list them with GET /api/v1/enrolments`);
    const notWaiting = rows.filter((r) => r!.state !== 'pending');
    if (notWaiting.length > 0) {
      throw new ConflictError(
        `nothing approved: ${notWaiting.map((r) => `${r!.name} (line ${r!.line}) is ${r!.state}`).join(', ')} — only lines waiting for approval (pending) can be approved`,
        'ids',
      );
    }
    const { approved, others } = await this.enrolments.approve(unique, context.actor, this.clock.now(), (list) => ({
      context,
      action: 'enrolment.approve',
      target: { kind: 'enrolment-list', id: list[0]!.batchId, name: `${list.length} agent${list.length === 1 ? '' : 's'}` },
      before: null,
      after: list.map((r) => ({ name: r.name, address: addressOf(r), agentId: r.agentUid, fingerprint: r.fingerprint })),
    }));
    // Another approver or collector moved one on meanwhile: said like the check above.
    if (others.length > 0 && approved.length === 0) {
      throw new ConflictError(`nothing approved: ${others.map((r) => `${r.name} (line ${r.line}) is ${r.state}`).join(', ')}`, 'ids');
    }
    this.wake();
    return [...approved, ...others].map((r) => this.view(r));
  }

  /** Drops a line that is not being worked on (a failed one, or one a person does not approve). Audited as `enrolment.dismiss`. */
  async dismiss(id: string, context: AuditContext): Promise<void> {
    const result = await this.enrolments.delete(id, ['contacting', 'approved'], (row) => ({
      context,
      action: 'enrolment.dismiss',
      target: { kind: 'enrolment', id: row.id, name: row.name },
      before: this.view(row),
      after: null,
    }));
    if (result === null) throw new NotFoundError(`no enrolment with id "${id}"`);
    if (result === 'busy') throw new ConflictError('the agent is being contacted or claimed right now: wait for the outcome, then dismiss it');
  }

  view(r: EnrolmentEntity): EnrolmentView {
    return {
      id: r.id,
      batch: r.batchId,
      line: r.line,
      name: r.name,
      address: addressOf(r),
      tags: parseTags(r.tagsJson),
      state: r.state,
      agent: r.agentUid ? { id: r.agentUid, hostname: r.hostname, version: r.agentVersion } : null,
      fingerprint: r.fingerprint,
      error: r.error,
      enrolledAs: r.agentId,
      submittedBy: r.submittedBy,
      approvedBy: r.approvedBy,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  }

  // ---- the work -------------------------------------------------------------------

  /** Runs rounds in the background until stop() (the collector while it serves). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.wake();
    await this.loopDone;
  }

  /** A round: takes the rows due (free leases), contacts or claims each, `concurrency` at a time; how many it took. */
  async runDue(): Promise<number> {
    const rows = await this.enrolments.takeDue(this.clock.now(), this.options.batch, this.options.leaseMs);
    if (rows.length === 0) return 0;
    // Agents enrolled here by their own ids, read once a round (every agent's description is parsed for it).
    const known = new Map<string, string>();
    for (const a of await this.agents.listViews()) if (a.agent) known.set(a.agent.id, a.name);
    let next = 0;
    const worker = async () => {
      while (next < rows.length && !this.stopping) {
        const row = rows[next++]!;
        try {
          await this.work(row, known);
        } catch (e) {
          // A storage failure mid-row: the lease runs out and the row is taken again.
          this.log.error(`enrolment of ${row.name} (${addressOf(row)}): ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, rows.length) }, worker));
    // Stopping: the rows not started are free at once for the next start (or another collector), not after their lease.
    for (const row of rows.slice(next)) await this.enrolments.update(row.id, { leaseUntil: null }, this.clock.now()).catch(() => null);
    return rows.length;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let took = 0;
      try {
        took = await this.runDue();
      } catch (e) {
        this.log.error(`enrolment round failed: ${(e as Error).message}`);
      }
      if (took > 0 || !this.running) continue;
      const now = this.clock.now();
      const due = await this.enrolments.nextDueAt(now).catch(() => null);
      await this.sleep(due === null ? this.options.idleMs : Math.min(this.options.idleMs, Math.max(50, due - now)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      this.timer = this.clock.setTimeout(resolve, ms);
      (this.timer as { unref?: () => void }).unref?.();
    });
  }

  private wake(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  private async work(row: EnrolmentEntity, known: ReadonlyMap<string, string>): Promise<void> {
    const outcome = row.state === 'contacting' ? await this.contact(row, known) : await this.claim(row, known);
    if (outcome.state === 'done') return;
    // A failed line's token opens nothing any more (no claim of it landed, or its agent could not be registered).
    await this.enrolments.update(
      row.id,
      { state: outcome.state, error: outcome.error, leaseUntil: null, ...(outcome.state === 'failed' ? { token: null } : {}) },
      this.clock.now(),
    );
    this.log.log(`${row.name} (${addressOf(row)}) ${outcome.state === 'failed' ? 'not enrolled' : 'not claimed'}: ${outcome.error}`);
  }

  /** First contact: who answers, whether it holds the site key, and whether it is already known here. */
  private async contact(row: EnrolmentEntity, known: ReadonlyMap<string, string>): Promise<Outcome> {
    const site = await this.enrolments.siteKey();
    if (!site) return { state: 'failed', error: 'the site key was removed: set it again, then submit the line again' };
    const target: EnrolTarget = { id: `enrol:${row.id}`, name: row.name, host: row.host, port: row.port };
    const collectorNonce = makeNonce();
    let answer: EnrolChallengeResponse;
    let certificateSha256: string;
    try {
      ({ answer, certificateSha256 } = await this.pool.enrolChallenge(target, collectorNonce, this.config.pollTimeoutMs));
    } catch (e) {
      return { state: 'failed', error: `${(e as Error).message} — not enrolled: check the address and that the agent runs, then submit the line again` };
    } finally {
      this.pool.drop(target.id);
    }
    const refusal = await this.refuseAgent(row, site, answer, collectorNonce, known);
    if (refusal) return { state: 'failed', error: refusal };
    const marked = await this.enrolments.markPending(
      row.id,
      { agentUid: answer.agentId, fingerprint: certificateSha256, hostname: answer.hostname || null, agentVersion: answer.version || null },
      this.clock.now(),
    );
    if ('duplicate' in marked) {
      const d = marked.duplicate;
      return {
        state: 'failed',
        error: `agent ${short(answer.agentId)} is already listed as ${d.name} (line ${d.line}${d.batchId === row.batchId ? '' : ' of an earlier list'})`,
      };
    }
    this.log.log(`${row.name} (${addressOf(row)}) answered as agent ${answer.agentId}, certificate sha256 ${certificateSha256}: waiting for approval`);
    return { state: 'done' };
  }

  /** Why the agent that answered cannot be enrolled from `row`, or undefined when it can. */
  private async refuseAgent(
    row: EnrolmentEntity,
    site: StoredSiteKey,
    answer: EnrolChallengeResponse,
    collectorNonce: string,
    known: ReadonlyMap<string, string>,
  ): Promise<string | undefined> {
    const enrolledAs = known.get(answer.agentId);
    if (enrolledAs !== undefined) return `agent ${short(answer.agentId)} is already enrolled as ${enrolledAs}`;
    if (answer.state !== EnrolState.ENROL_STATE_CLAIMABLE) {
      return (
        `agent ${short(answer.agentId)} at ${addressOf(row)} is enrolled already (claimed by a collector, or set up with an enrolment string) and does not accept the site key — ` +
        `if it belongs here, ${RE_INIT} and submit the line again, or enrol it with its enrolment string`
      );
    }
    const verifier = await this.verifier(site, answer.agentId);
    const expected = agentProof(verifier, { collectorNonce, nonce: answer.nonce, agentId: answer.agentId, certificateSha256: answer.certificateSha256 });
    if (!proofsEqual(expected, answer.agentProof)) {
      return `agent ${short(answer.agentId)} at ${addressOf(row)} was installed with another site key than this collector’s — ${RE_INIT}, then submit the line again`;
    }
    return undefined;
  }

  /** An approved row: the agent is claimed with the site key and registered, or the row says why not. */
  private async claim(row: EnrolmentEntity, known: ReadonlyMap<string, string>): Promise<Outcome> {
    const target = { id: `enrol:${row.id}`, name: row.name, host: row.host, port: row.port, fingerprint: row.fingerprint ?? '' };
    try {
      // An earlier claim's answer may have been lost (or this collector restarted): its token tells.
      if (row.token) {
        const landed = await this.claimedWith(row, row.token);
        if (landed) return await this.register(row, row.token, landed.description);
      }
      const taken = await this.agentsRepository.findByName(row.name);
      if (taken)
        return {
          state: 'failed',
          error: `the name ${row.name} was taken meanwhile by agent ${taken.name} (${taken.host}:${taken.port}) — submit the line again with another name`,
        };
      const site = await this.enrolments.siteKey();
      if (!site) return { state: 'pending', error: 'not claimed: there is no site key any more — set it again, then approve again' };
      for (let attempt = 1; ; attempt++) {
        const collectorNonce = makeNonce();
        let answer: EnrolChallengeResponse;
        try {
          ({ answer } = await this.pool.enrolChallenge(target, collectorNonce, this.config.pollTimeoutMs));
        } catch (e) {
          if (e instanceof AgentCallError && e.code === 'certificate') {
            return { state: 'failed', error: `${e.message} — not the certificate that was approved: submit the line again to see what answers now` };
          }
          return { state: 'pending', error: `not claimed: ${(e as Error).message} — approve it again once it answers` };
        }
        if (answer.agentId !== row.agentUid) {
          return {
            state: 'failed',
            error: `another agent answers at ${addressOf(row)} now (${short(answer.agentId)}, approved was ${short(row.agentUid ?? '')}) — submit the line again`,
          };
        }
        if (answer.state === EnrolState.ENROL_STATE_ENROLLED && row.token) {
          // Enrolled since the approval: perhaps by the claim whose answer was lost, which the first look could not reach.
          const landed = await this.claimedWith(row, row.token);
          if (landed) return await this.register(row, row.token, landed.description);
        }
        const refusal = await this.refuseAgent(row, site, answer, collectorNonce, known);
        if (refusal) return { state: 'failed', error: refusal };
        const token = randomBytes(32).toString('base64url');
        const newTokenSha256 = sha256(token).toString('hex');
        const proof = claimProof(await this.verifier(site, answer.agentId), {
          nonce: answer.nonce,
          agentId: answer.agentId,
          certificateSha256: row.fingerprint ?? '',
          newTokenSha256,
        });
        // Kept before it is used: whatever happens to the answer, the token is not lost.
        await this.enrolments.update(row.id, { token }, this.clock.now());
        try {
          await this.pool.claim(target, { nonce: answer.nonce, newTokenSha256, proof }, this.config.pollTimeoutMs);
        } catch (e) {
          const err = e as AgentCallError;
          if (err.refusal === 'aborted' && attempt < 3) continue; // the nonce ran out: a new challenge
          if (err.code === 'timeout' || err.code === 'unreachable') {
            const landed = await this.claimedWith(row, token);
            if (landed) return await this.register(row, token, landed.description);
            return { state: 'pending', error: `not claimed: ${err.message} — approve it again once it answers` };
          }
          return this.claimRefused(row, err);
        }
        return await this.register(row, token);
      }
    } finally {
      this.pool.drop(target.id);
    }
  }

  private claimRefused(row: EnrolmentEntity, err: AgentCallError): Outcome {
    const who = `agent ${short(row.agentUid ?? '')} at ${addressOf(row)}`;
    switch (err.refusal) {
      case 'denied':
        return {
          state: 'failed',
          error: `${who} refused the claim: it was installed with another site key than this collector’s — ${RE_INIT}, then submit the line again`,
        };
      case 'precondition':
        return { state: 'failed', error: `${who} refused the claim: ${err.details ?? err.message}` };
      case 'throttled':
        return {
          state: 'pending',
          error: `not claimed: ${who} refuses claims for a while after too many failed site-key proofs (${err.details ?? ''}) — approve it again later`,
        };
    }
    return { state: 'failed', error: `${who} refused the claim: ${err.message}` };
  }

  /** Whether the agent takes `token` (a claim landed): then what it says about itself. */
  private async claimedWith(row: EnrolmentEntity, token: string): Promise<{ description: AgentDescription } | undefined> {
    const endpoint = { id: `claimed:${row.id}`, name: row.name, host: row.host, port: row.port, token, fingerprint: row.fingerprint ?? '' };
    try {
      return { description: await this.pool.describe(endpoint, this.config.pollTimeoutMs) };
    } catch {
      return undefined;
    } finally {
      this.pool.drop(endpoint.id);
    }
  }

  /**
   * The claim went through: the agent is registered with its token and pinned certificate, and
   * the row marked enrolled, in one transaction (audited as `agent.enrol`, by its approver).
   */
  private async register(row: EnrolmentEntity, token: string, description?: AgentDescription): Promise<Outcome> {
    const now = this.clock.now();
    const context: AuditContext = { actor: row.approvedBy ?? 'system', source: 'system', address: null, userAgent: null };
    let agent: Awaited<ReturnType<AgentsRepository['create']>>;
    try {
      agent = await this.agentsRepository.create(
        { name: row.name, host: row.host, port: row.port, token, fingerprint: row.fingerprint ?? '', tagsJson: row.tagsJson },
        now,
        (created) => ({
          context,
          action: 'agent.enrol',
          target: { kind: 'agent', id: created.id, name: created.name },
          before: null,
          after: {
            id: created.id,
            name: created.name,
            host: created.host,
            port: created.port,
            fingerprint: created.fingerprint,
            tags: parseTags(created.tagsJson),
            enrolment: { via: 'site key', list: row.batchId, line: row.line, agentId: row.agentUid, approvedBy: row.approvedBy },
          },
        }),
        (m, created) => this.enrolments.markEnrolled(m, row.id, created.id, now),
      );
    } catch (e) {
      if (!uniqueViolation(e)) throw e;
      // Taken between the look before the claim and now: the agent holds a token this collector cannot use under that name.
      return {
        state: 'failed',
        error: `claimed, but the name ${row.name} was taken meanwhile — run \`rounds-agent init --force --site-key-file …\` on it and submit the line again with another name`,
      };
    }
    // At once: the line already reads "enrolled", and the agent's page and API answer from the read model.
    await this.state?.refreshAgent(agent.id);
    let described = description;
    if (!described) {
      described = await this.claimedWith(row, token).then((d) => d?.description);
    }
    if (described) await this.agentsRepository.update(agent.id, { descriptionJson: JSON.stringify(described) });
    await this.state?.refreshAgent(agent.id);
    this.log.log(`enrolled agent ${row.name} at ${addressOf(row)} with the site key (approved by ${row.approvedBy ?? 'nobody'}): polled from now on`);
    return { state: 'done' };
  }

  private verifier(site: StoredSiteKey, agentUid: string): Promise<Buffer> {
    const key = `${site.id}\0${agentUid}`;
    let found = this.verifiers.get(key);
    if (!found) {
      found = siteKeyVerifier(site.key, agentUid);
      found.catch(() => this.verifiers.delete(key));
      while (this.verifiers.size >= VERIFIER_CACHE) this.verifiers.delete(this.verifiers.keys().next().value!);
      this.verifiers.set(key, found);
    }
    return found;
  }
}
