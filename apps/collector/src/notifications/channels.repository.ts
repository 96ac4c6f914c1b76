import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { NotificationChannelEntity, type ChannelType } from '../storage/entities/index.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { secretBoxOf, type SecretBox } from '../storage/secret-box.js';
import { inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { Audited } from '../audit/audit.types.js';
import { openChannelConfig, sealChannelConfig } from './channel-secrets.js';

export interface NewChannel {
  name: string;
  type: ChannelType;
  /** Already validated against the type's schema; stored as one JSON column. */
  config: unknown;
  enabled?: boolean;
}

/** The type never changes: a different transport is a different channel. */
export type ChannelPatch = Partial<Omit<NewChannel, 'type'>>;

/**
 * Channels as stored. The config's secret fields are sealed on every write and opened on every
 * read (channel-secrets.ts): the rest of the collector sees plaintext, the database never does.
 */
@Injectable()
export class ChannelsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Looked up per use: a key rotation gives the DataSource a new box. */
  private get box(): SecretBox {
    return secretBoxOf(this.dataSource);
  }

  /** `audit`: the audit row, appended in the same transaction. */
  async create(input: NewChannel, now = Date.now(), audit?: Audited<NotificationChannelEntity>): Promise<NotificationChannelEntity> {
    const channel = this.dataSource.getRepository(NotificationChannelEntity).create({
      id: randomUUID(),
      name: input.name,
      type: input.type,
      configJson: JSON.stringify(input.config),
      enabled: input.enabled ?? true,
      lastError: null,
      lastSuccessAt: null,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
    });
    const sealed = { ...channel, configJson: sealChannelConfig(input.type, input.config, this.box) };
    await inTransaction(this.dataSource, async (m) => {
      await m.insert(NotificationChannelEntity, sealed);
      if (audit) await appendAudit(m, audit(channel), now);
    });
    return channel;
  }

  async findAll(filter: { enabled?: boolean } = {}): Promise<NotificationChannelEntity[]> {
    const rows = await this.dataSource.getRepository(NotificationChannelEntity).find({
      where: filter.enabled === undefined ? {} : { enabled: filter.enabled },
      order: { name: 'ASC', id: 'ASC' },
    });
    return rows.map((c) => this.opened(c));
  }

  async findById(id: string): Promise<NotificationChannelEntity | null> {
    return this.opened(await this.dataSource.getRepository(NotificationChannelEntity).findOneBy({ id }));
  }

  async findByName(name: string): Promise<NotificationChannelEntity | null> {
    return this.opened(await this.dataSource.getRepository(NotificationChannelEntity).findOneBy({ name }));
  }

  /** Returns the updated channel, or null when there is none with this id. */
  async update(id: string, patch: ChannelPatch, now = Date.now(), audit?: Audited<NotificationChannelEntity>): Promise<NotificationChannelEntity | null> {
    const changes: Partial<NotificationChannelEntity> = { updatedAt: now };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.enabled !== undefined) changes.enabled = patch.enabled;
    if (patch.config !== undefined) {
      const current = await this.dataSource.getRepository(NotificationChannelEntity).findOne({ where: { id }, select: { id: true, type: true } });
      if (!current) return null;
      changes.configJson = sealChannelConfig(current.type, patch.config, this.box);
      // A new config is a new start: the old error described the old settings.
      Object.assign(changes, { lastError: null, failingSince: null });
    }
    return inTransaction(this.dataSource, async (m) => {
      const result = await m.update(NotificationChannelEntity, { id }, changes);
      if ((result.affected ?? 0) === 0) return null;
      const updated = this.opened(await m.findOneBy(NotificationChannelEntity, { id }));
      if (updated && audit) await appendAudit(m, audit(updated), now);
      return updated;
    });
  }

  /** Deletes the channel and its outbox rows (ON DELETE CASCADE). */
  async delete(id: string, audit?: Audited<void>): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const result = await m.delete(NotificationChannelEntity, { id });
      if (!result.affected) return false;
      if (audit) await appendAudit(m, audit());
      return true;
    });
  }

  private opened<T extends NotificationChannelEntity | null>(channel: T): T {
    if (channel === null) return channel;
    channel.configJson = openChannelConfig(channel, this.box);
    return channel;
  }

  /** Records the outcome of a test send (deliveries record theirs with the outbox row). */
  async recordOutcome(id: string, error: string | null, now: number): Promise<void> {
    await inTransaction(this.dataSource, (m) => recordChannelOutcome(m, id, error, now));
  }
}

/** Success clears the error; a failure keeps the first failure time, so "failing since" holds. */
export async function recordChannelOutcome(m: EntityManager, id: string, error: string | null, now: number): Promise<void> {
  const qb = m.createQueryBuilder().update(NotificationChannelEntity).where('id = :id', { id });
  if (error === null) {
    await qb.set({ lastError: null, failingSince: null, lastSuccessAt: now }).execute();
  } else {
    await qb
      .set({ lastError: error, failingSince: () => 'COALESCE(failing_since, :now)' })
      .setParameter('now', now)
      .execute();
  }
}
