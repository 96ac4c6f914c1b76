import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In, LessThan, LessThanOrEqual, type EntityManager } from 'typeorm';
import { NotificationChannelEntity } from '../storage/entities/index.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { orderedId } from '../notifications/outbox.repository.js';
import { chunk, inTransaction, MAX_BOUND_PARAMETERS, readerOf } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { NotificationPolicyEntity, NotificationRoutingEntity, NotificationStepEntity, ROUTING_SETTINGS_ID, type StepStatus } from './routing.entity.js';

/** A channel as routing needs it: no config, so no secret is opened to route an alert. */
export interface ChannelRef {
  id: string;
  name: string;
  enabled: boolean;
}

export type NewStep = Omit<NotificationStepEntity, 'id'>;

/** Policies and routing settings as stored, and the escalation timeline. */
@Injectable()
export class RoutingRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  policies(): Promise<NotificationPolicyEntity[]> {
    // readerOf: a config apply names channels and policies it created in its still open transaction (PostgreSQL reads them only there).
    return readerOf(this.dataSource)
      .getRepository(NotificationPolicyEntity)
      .find({ order: { position: 'ASC' } });
  }

  async settings(): Promise<string | null> {
    return (await readerOf(this.dataSource).getRepository(NotificationRoutingEntity).findOneBy({ id: ROUTING_SETTINGS_ID }))?.settingsJson ?? null;
  }

  async channels(): Promise<ChannelRef[]> {
    return readerOf(this.dataSource)
      .getRepository(NotificationChannelEntity)
      .find({ select: { id: true, name: true, enabled: true }, order: { createdAt: 'ASC' } });
  }

  /**
   * Creates the policy (no `id`) or replaces it, at `position` (clamped to the list; absent: the
   * end for a new one, its place for a replaced one); the others move up or down to make room.
   */
  async savePolicy(
    input: { id?: string; name: string; position?: number; rulesJson: string },
    now: number,
    audit: (saved: NotificationPolicyEntity) => AuditDraft,
  ): Promise<NotificationPolicyEntity> {
    return inTransaction(this.dataSource, async (m) => {
      const list = await m.find(NotificationPolicyEntity, { order: { position: 'ASC' } });
      const existing = input.id === undefined ? undefined : list.find((p) => p.id === input.id);
      const others = list.filter((p) => p !== existing);
      const at = Math.min(input.position ?? existing?.position ?? others.length, others.length);
      const saved: NotificationPolicyEntity = {
        id: existing?.id ?? randomUUID(),
        name: input.name,
        position: at,
        rulesJson: input.rulesJson,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      if (existing) await m.update(NotificationPolicyEntity, { id: existing.id }, { name: saved.name, rulesJson: saved.rulesJson, updatedAt: now });
      else await m.insert(NotificationPolicyEntity, saved);
      await renumber(m, [...others.slice(0, at), saved, ...others.slice(at)]);
      await appendAudit(m, audit(saved), now);
      return saved;
    });
  }

  async deletePolicy(id: string, now: number, audit: AuditDraft): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const result = await m.delete(NotificationPolicyEntity, { id });
      if (!result.affected) return false;
      await renumber(m, await m.find(NotificationPolicyEntity, { order: { position: 'ASC' } }));
      await appendAudit(m, audit, now);
      return true;
    });
  }

  async saveSettings(settingsJson: string, now: number, audit: AuditDraft): Promise<void> {
    await inTransaction(this.dataSource, async (m) => {
      await m.upsert(NotificationRoutingEntity, { id: ROUTING_SETTINGS_ID, settingsJson, updatedAt: now }, ['id']);
      await appendAudit(m, audit, now);
    });
  }

  // ---- the timeline ----------------------------------------------------------------

  /** Inserts the steps whose key is new (the same firing routed twice adds nothing). */
  async insertSteps(m: EntityManager, steps: readonly NewStep[]): Promise<void> {
    const values = steps.map((s) => ({ ...s, id: orderedId() }));
    for (const part of chunk(values, 16)) await m.createQueryBuilder().insert().into(NotificationStepEntity).values(part).orIgnore().execute();
  }

  /** An alert's steps, in the order they were written (one episode when `activeAt` is given). */
  episode(m: EntityManager | null, fingerprint: string, activeAt?: number): Promise<NotificationStepEntity[]> {
    return (m ?? this.dataSource.manager).find(NotificationStepEntity, {
      where: activeAt === undefined ? { fingerprint } : { fingerprint, activeAt },
      order: { activeAt: 'ASC', dueAt: 'ASC', id: 'ASC' },
    });
  }

  /** A newer "firing" (a severity change) is what the episode's pending steps will send. */
  async updatePendingPayload(m: EntityManager, fingerprint: string, activeAt: number, payloadJson: string): Promise<void> {
    await m.update(NotificationStepEntity, { fingerprint, activeAt, status: 'pending' }, { payloadJson });
  }

  /** The steps of these alerts (every episode), for routing them in one go. */
  async episodes(m: EntityManager, fingerprints: readonly string[]): Promise<NotificationStepEntity[]> {
    const out: NotificationStepEntity[] = [];
    for (const part of chunk([...new Set(fingerprints)], 1)) out.push(...(await m.find(NotificationStepEntity, { where: { fingerprint: In(part) } })));
    return out;
  }

  /** Cancels the alerts' pending steps, each with why (every episode of it: only the current one can have any). */
  async cancelPending(m: EntityManager, ends: readonly { fingerprint: string; why: string }[], now: number): Promise<void> {
    const byWhy = new Map<string, Set<string>>();
    for (const end of ends) byWhy.set(end.why, (byWhy.get(end.why) ?? new Set()).add(end.fingerprint));
    for (const [note, fingerprints] of byWhy)
      // Room for the SET values beside the list.
      for (const part of chunk([...fingerprints], 1, MAX_BOUND_PARAMETERS - 8))
        await m.update(NotificationStepEntity, { fingerprint: In(part), status: 'pending' }, { status: 'cancelled', note, settledAt: now });
  }

  due(now: number, limit: number): Promise<NotificationStepEntity[]> {
    return this.dataSource.getRepository(NotificationStepEntity).find({
      where: { status: 'pending', dueAt: LessThanOrEqual(now) },
      order: { dueAt: 'ASC', id: 'ASC' },
      take: limit,
    });
  }

  /**
   * Settles a pending step; false when it was settled meanwhile (an acknowledgement committed
   * between reading it and now): whoever settled it first decided.
   */
  async settle(
    m: EntityManager,
    id: string,
    outcome: { status: Exclude<StepStatus, 'pending'>; channelIds?: string[]; note: string | null },
    now: number,
  ): Promise<boolean> {
    const result = await m.update(
      NotificationStepEntity,
      { id, status: 'pending' },
      { status: outcome.status, channelIdsJson: outcome.channelIds ? JSON.stringify(outcome.channelIds) : null, note: outcome.note, settledAt: now },
    );
    return (result.affected ?? 0) > 0;
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.dataSource
      .getRepository(NotificationStepEntity)
      .createQueryBuilder('s')
      .select('MIN(s.dueAt)', 'next')
      .where('s.status = :pending', { pending: 'pending' })
      .getRawOne<{ next: string | number | null }>();
    return row?.next === null || row?.next === undefined ? null : Number(row.next);
  }

  /** Forgets settled steps of episodes that began before `before`. */
  async prune(before: number): Promise<number> {
    const result = await this.dataSource.getRepository(NotificationStepEntity).delete({ status: In(['sent', 'cancelled']), activeAt: LessThan(before) });
    return result.affected ?? 0;
  }
}

/** Positions 0, 1, 2, … in this order (a short list: every row is written). */
async function renumber(m: EntityManager, ordered: readonly NotificationPolicyEntity[]): Promise<void> {
  for (let i = 0; i < ordered.length; i++) {
    await m.update(NotificationPolicyEntity, { id: ordered[i]!.id }, { position: i });
    ordered[i]!.position = i;
  }
}
