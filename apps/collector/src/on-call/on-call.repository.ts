import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { inTransaction } from '../storage/transaction.js';
import { OnCallOverrideEntity, OnCallScheduleEntity } from './on-call.entity.js';

/** On-call schedules and their overrides as stored; every write carries its audit row. */
@Injectable()
export class OnCallRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  findAll(): Promise<OnCallScheduleEntity[]> {
    return this.dataSource.getRepository(OnCallScheduleEntity).find({ order: { name: 'ASC', id: 'ASC' } });
  }

  findById(id: string): Promise<OnCallScheduleEntity | null> {
    return this.dataSource.getRepository(OnCallScheduleEntity).findOneBy({ id });
  }

  findByName(name: string): Promise<OnCallScheduleEntity | null> {
    return this.dataSource.getRepository(OnCallScheduleEntity).findOneBy({ name });
  }

  /** The schedule's overrides (all of them: past ones still explain a past timeline), earliest first. */
  overrides(scheduleId: string): Promise<OnCallOverrideEntity[]> {
    return this.dataSource.getRepository(OnCallOverrideEntity).find({ where: { scheduleId }, order: { startsAt: 'ASC', id: 'ASC' } });
  }

  async allOverrides(): Promise<OnCallOverrideEntity[]> {
    return this.dataSource.getRepository(OnCallOverrideEntity).find({ order: { startsAt: 'ASC', id: 'ASC' } });
  }

  async insert(schedule: OnCallScheduleEntity, audit: AuditDraft): Promise<void> {
    await inTransaction(this.dataSource, async (m) => {
      await m.insert(OnCallScheduleEntity, schedule);
      await appendAudit(m, audit, schedule.createdAt);
    });
  }

  async replace(schedule: OnCallScheduleEntity, audit: AuditDraft): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const { id, name, timeZone, rotationsJson, contactsJson, updatedAt } = schedule;
      const result = await m.update(OnCallScheduleEntity, { id }, { name, timeZone, rotationsJson, contactsJson, updatedAt });
      if (!result.affected) return false;
      await appendAudit(m, audit, schedule.updatedAt);
      return true;
    });
  }

  /** Removes the schedule with its overrides (ON DELETE CASCADE). */
  async delete(id: string, audit: AuditDraft, now: number): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const result = await m.delete(OnCallScheduleEntity, { id });
      if (!result.affected) return false;
      await appendAudit(m, audit, now);
      return true;
    });
  }

  async insertOverride(override: OnCallOverrideEntity, audit: AuditDraft): Promise<void> {
    await inTransaction(this.dataSource, async (m) => {
      await m.insert(OnCallOverrideEntity, override);
      await appendAudit(m, audit, override.createdAt);
    });
  }

  async deleteOverride(scheduleId: string, id: string, audit: AuditDraft, now: number): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const result = await m.delete(OnCallOverrideEntity, { id, scheduleId });
      if (!result.affected) return false;
      await appendAudit(m, audit, now);
      return true;
    });
  }
}
