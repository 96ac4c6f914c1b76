import { createHash, randomUUID } from 'node:crypto';
import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '#rounds/common';
import { inTransaction } from '../storage/transaction.js';
import { num } from '../storage/bulk-sql.js';
import type { Cluster, CollectorMember } from './cluster.js';
import { agentLeaseName } from './lease-fence.js';

export interface ClusterOptions {
  /** This collector's name (logs, pages). */
  name: string;
  /** How often the leases are renewed. */
  renewMs: number;
  /** How long a lease (and a heartbeat) counts without renewal. */
  ttlMs: number;
}

const LEADER = 'leader';
const AGENT_PREFIX = 'agent:';
/** A collector row without a heartbeat for this long is deleted: it is not coming back under that id. */
const FORGET_AFTER_MS = 3_600_000;

/** What one round committed: the agents held (id → epoch) and whether this collector is the leader. */
interface Holding {
  agents: Map<string, number>;
  leader: boolean;
}

/**
 * Which live collector polls each agent: rendezvous hashing with bounded loads. Each agent ranks
 * the collectors by a hash of (collector, agent) and goes to the highest-ranked one that has room,
 * room being an even share (⌊agents/collectors⌋, the remainder one more each), agents taken in id
 * order. Every collector computes the same answer from the same agents and live set; the loads
 * differ by at most one; a collector joining or leaving moves its own share and few others (an
 * agent moves only when its ranking's first choices filled up differently).
 */
export function assignAgents(agentIds: readonly string[], live: readonly string[]): Map<string, string> {
  const owners = new Map<string, string>();
  if (live.length === 0) return owners;
  const base = Math.floor(agentIds.length / live.length);
  let extra = agentIds.length % live.length;
  const load = new Map(live.map((c) => [c, 0]));
  for (const agentId of [...agentIds].sort()) {
    const ranked = live
      .map((collector) => ({ collector, score: createHash('sha256').update(collector).update('\0').update(agentId).digest().readBigUInt64BE(0) }))
      .sort((a, b) => (a.score === b.score ? a.collector.localeCompare(b.collector) : a.score > b.score ? -1 : 1));
    for (const { collector } of ranked) {
      const n = load.get(collector)!;
      if (n < base || (n === base && extra > 0)) {
        if (n === base) extra -= 1;
        load.set(collector, n + 1);
        owners.set(agentId, collector);
        break;
      }
    }
  }
  return owners;
}

/**
 * The {@link Cluster} on PostgreSQL. Every `renewMs`, one transaction: heartbeat, read the live
 * collectors (heartbeat within the ttl), compute each agent's owner among them ({@link assignAgents}), claim the agents
 * that are this collector's and free (expired, released, never held, or its own — a new holder
 * raises the epoch, a renewal keeps it), release those another live collector should have, and
 * claim or renew the leader lease. Claims are conditional upserts (`… WHERE holder = me OR
 * expires_at <= now`): two collectors racing for a lease serialise on its row and only one wins.
 *
 * A collector that cannot renew (database down) holds nothing and is not the leader once its
 * last renewal's ttl has passed by its own clock: by then another may have taken over.
 */
export class ClusterService implements Cluster, OnApplicationBootstrap, OnApplicationShutdown {
  readonly collectorId = randomUUID();
  readonly shared = true;
  private readonly log = new Logger('Cluster');
  private readonly startedAt: number;
  private held = new Map<string, number>();
  /** Agent id → the name of the collector holding its lease, read after each renewal (pages and the API say who polls what). */
  private pollers = new Map<string, string>();
  private leader = false;
  /** By this collector's clock: when its leases lapse unless renewed. */
  private validUntil = 0;
  private failing: string | null = null;
  private timer: unknown;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly leaderListeners: ((leader: boolean) => void)[] = [];
  private readonly leaseListeners: (() => void)[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ClusterOptions,
    private readonly clock: Clock,
  ) {
    this.startedAt = clock.now();
  }

  isLeader(): boolean {
    return this.leader && this.clock.now() < this.validUntil;
  }

  onLeaderChange(listener: (leader: boolean) => void): void {
    this.leaderListeners.push(listener);
  }

  onLeasesChange(listener: () => void): void {
    this.leaseListeners.push(listener);
  }

  leaseOf(agentId: string): number | null {
    if (this.clock.now() >= this.validUntil) return null;
    return this.held.get(agentId) ?? null;
  }

  pollerOf(agentId: string): string | null {
    if (this.clock.now() >= this.validUntil) return null;
    return this.pollers.get(agentId) ?? null;
  }

  async members(): Promise<CollectorMember[]> {
    const now = this.clock.now();
    const rows = await this.dataSource.query<{ id: string; name: string; started_at: unknown; heartbeat_at: unknown; agents: unknown; leader: unknown }[]>(
      `SELECT c.id, c.name, c.started_at, c.heartbeat_at,
         (SELECT count(*) FROM leases l WHERE l.holder = c.id AND l.name LIKE 'agent:%' AND l.expires_at > $1) AS agents,
         EXISTS (SELECT 1 FROM leases l WHERE l.holder = c.id AND l.name = 'leader' AND l.expires_at > $1) AS leader
       FROM collectors c ORDER BY c.name, c.id`,
      [now],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      startedAt: num(r.started_at),
      heartbeatAt: num(r.heartbeat_at),
      live: num(r.heartbeat_at) > now - this.options.ttlMs,
      agents: num(r.agents),
      leader: r.leader === true,
      self: r.id === this.collectorId,
    }));
  }

  /** How many agents this collector holds now (/metrics). */
  get agentsHeld(): number {
    return this.clock.now() < this.validUntil ? this.held.size : 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.log.log(
      `collector ${this.options.name} (${this.collectorId}) shares the database: leases renewed every ${this.options.renewMs} ms, valid ${this.options.ttlMs} ms`,
    );
    await this.round();
    this.schedule();
  }

  /** Stops renewing and hands everything back at once, so the others take over on their next round instead of after the ttl. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.running;
    try {
      await inTransaction(this.dataSource, async (m) => {
        await m.query('UPDATE leases SET expires_at = 0 WHERE holder = $1', [this.collectorId]);
        await m.query('DELETE FROM collectors WHERE id = $1', [this.collectorId]);
      });
    } catch (e) {
      this.log.warn(`could not hand back its leases at shutdown (${(e as Error).message}): they expire within ${this.options.ttlMs} ms`);
    }
    this.apply({ agents: new Map(), leader: false }, 0);
  }

  /** One renewal round now (the timer's; specs call it directly). */
  round(): Promise<void> {
    this.running = this.running.then(() => this.renewOnce());
    return this.running;
  }

  /**
   * Every `renewMs`: a round, unless the last one still runs (a database that hangs rather than
   * fails) — then only the self-fencing check, which must not wait for it.
   */
  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.fenceIfLapsed(this.failing ?? 'the last renewal has not finished');
      if (!this.inFlight) {
        this.inFlight = true;
        void this.round().finally(() => (this.inFlight = false));
      }
      this.schedule();
    }, this.options.renewMs);
  }

  private inFlight = false;

  private async renewOnce(): Promise<void> {
    if (this.stopped) return;
    const now = this.clock.now();
    try {
      const holding = await inTransaction(this.dataSource, (m) => this.renew(m, now));
      if (this.failing) this.log.log(`leases renewed again after: ${this.failing}`);
      this.failing = null;
      this.apply(holding, now + this.options.ttlMs);
      await this.readPollers(now);
    } catch (e) {
      const reason = (e as Error).message;
      if (!this.failing) this.log.warn(`cannot renew the leases (${reason}): the ones held stay valid until their ttl passes`);
      this.failing = reason;
      this.fenceIfLapsed(reason);
    }
  }

  /**
   * Who holds each agent's lease now, for pages and the API. Read after the renewal's transaction
   * (which holds row locks and should stay short); the others' claims in their rounds since show
   * up at the next. A failed read keeps the last answer: it informs, it decides nothing.
   */
  private async readPollers(now: number): Promise<void> {
    try {
      const rows = await this.dataSource.query<{ name: string; collector: string }[]>(
        `SELECT l.name, c.name AS collector FROM leases l JOIN collectors c ON c.id = l.holder WHERE l.name LIKE 'agent:%' AND l.expires_at > $1`,
        [now],
      );
      this.pollers = new Map(rows.map((r) => [r.name.slice(AGENT_PREFIX.length), r.collector]));
    } catch (e) {
      this.log.debug(`could not read which collector polls which agent: ${(e as Error).message}`);
    }
  }

  /** Once the last renewal's ttl has passed by this collector's clock, it lets go of everything (another may hold it by now). */
  private fenceIfLapsed(reason: string): void {
    if (this.clock.now() < this.validUntil || (this.held.size === 0 && !this.leader)) return;
    this.log.warn(
      `leases not renewed for ${this.options.ttlMs} ms (${reason}): holding no agents and not the leader until renewing works again — another collector may have taken over`,
    );
    this.apply({ agents: new Map(), leader: false }, 0);
  }

  private async renew(m: EntityManager, now: number): Promise<Holding> {
    const { ttlMs } = this.options;
    const me = this.collectorId;
    await m.query(
      'INSERT INTO collectors (id, name, started_at, heartbeat_at, http_url) VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at',
      [me, this.options.name, this.startedAt, now],
    );
    await m.query('DELETE FROM collectors WHERE heartbeat_at < $1', [now - FORGET_AFTER_MS]);
    const live = (await m.query<{ id: string }[]>('SELECT id FROM collectors WHERE heartbeat_at > $1 ORDER BY id', [now - ttlMs])).map((r) => r.id);
    const agentIds = (await m.query<{ id: string }[]>('SELECT id FROM agents ORDER BY id')).map((r) => r.id);
    const owners = assignAgents(agentIds, live);
    const mine = agentIds.filter((id) => owners.get(id) === me).map(agentLeaseName);

    // Its own rows first, in name order: the release and renewal below then lock nothing out of the
    // order the result writer's fence check locks in (lease-fence.ts) — they deadlocked (bench: postgres).
    // Not the rows it released (expires_at 0): those are for others to claim, and a lock here
    // would make their claims skip them (below) round after round.
    await m.query('SELECT name FROM leases WHERE holder = $1 AND expires_at > 0 ORDER BY name FOR UPDATE', [me]);
    // Anything else this collector holds goes back: its owner (live) claims it on its next round.
    await m.query(`UPDATE leases SET expires_at = 0 WHERE holder = $1 AND name LIKE 'agent:%' AND expires_at > 0 AND NOT (name = ANY($2))`, [me, mine]);
    const agents = new Map<string, number>();
    for (const row of await this.claim(m, mine, now, true)) agents.set(row.name.slice(AGENT_PREFIX.length), num(row.epoch));
    // The holder keeps leading while it lives (no hand-over when a lower id joins); a free lease goes to the lowest live id.
    const leader = (await this.claim(m, [LEADER], now, live[0] === me)).length > 0;
    // Deleted agents' leases: nobody renews them; the leader clears them once lapsed.
    if (leader) {
      await m.query(
        "DELETE FROM leases WHERE name LIKE 'agent:%' AND expires_at <= $1 AND NOT EXISTS (SELECT 1 FROM agents a WHERE 'agent:' || a.id = leases.name)",
        [now],
      );
    }
    return { agents, leader };
  }

  /**
   * Claims or renews `names` for this collector; answers those it holds now. `takeFree`: also
   * takes leases that are expired or released (a new holder: epoch + 1), else renews only.
   */
  private async claim(m: EntityManager, names: readonly string[], now: number, takeFree: boolean): Promise<{ name: string; epoch: unknown }[]> {
    if (names.length === 0) return [];
    const expiresAt = now + this.options.ttlMs;
    if (!takeFree) {
      // In a WITH: TypeORM answers a bare UPDATE with [rows, count], a SELECT with its rows.
      return m.query('WITH renewed AS (UPDATE leases SET expires_at = $3 WHERE name = ANY($1) AND holder = $2 RETURNING name, epoch) SELECT * FROM renewed', [
        names,
        this.collectorId,
        expiresAt,
      ]);
    }
    // Rows another collector's round has locked are skipped this round, not waited for: when the
    // live set changes, bounded loads can move agents both ways between two collectors, each round
    // holding its own rows (locked first, above) and claiming the other's — a deadlock PostgreSQL
    // broke by failing one round (the cluster spec saw it in CI). What is skipped is claimed at the
    // next round, after the other has committed its release. This collector's own rows are locked
    // by this transaction already, so they are never skipped.
    const sorted = [...names].sort();
    const free = await m.query<{ name: string }[]>(
      'SELECT name FROM leases WHERE name = ANY($1) AND (holder = $2 OR expires_at <= $3) ORDER BY name FOR UPDATE SKIP LOCKED',
      [sorted, this.collectorId, now],
    );
    const existing = new Set((await m.query<{ name: string }[]>('SELECT name FROM leases WHERE name = ANY($1)', [sorted])).map((r) => r.name));
    const takeable = [...new Set([...free.map((r) => r.name), ...sorted.filter((n) => !existing.has(n))])].sort();
    if (takeable.length === 0) return [];
    // Sorted, so two collectors inserting the same new rows wait on each other in one order (no deadlock).
    return m.query(
      `INSERT INTO leases (name, holder, epoch, expires_at) SELECT n, $2, 1, $3 FROM unnest($1::text[]) AS n ORDER BY n
       ON CONFLICT (name) DO UPDATE SET
         epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END,
         holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= $4
       RETURNING name, epoch`,
      [takeable, this.collectorId, expiresAt, now],
    );
  }

  private apply(holding: Holding, validUntil: number): void {
    const before = this.held;
    const wasLeader = this.leader;
    this.held = holding.agents;
    this.leader = holding.leader;
    this.validUntil = validUntil;
    const changed = before.size !== this.held.size || [...this.held].some(([id, epoch]) => before.get(id) !== epoch);
    if (wasLeader !== this.leader) {
      this.log.log(this.leader ? `collector ${this.options.name} is the leader now` : `collector ${this.options.name} is no longer the leader`);
      for (const listener of this.leaderListeners) listener(this.leader);
    }
    if (changed) for (const listener of this.leaseListeners) listener();
  }
}
