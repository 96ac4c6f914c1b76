import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In, IsNull, LessThanOrEqual, type EntityManager } from 'typeorm';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { secretBoxOf, type SecretBox } from '../storage/secret-box.js';
import { chunk, forUpdate, inTransaction } from '../storage/transaction.js';
import { EnrolmentEntity, SiteKeyEntity, type EnrolmentState } from './enrolment.entity.js';

/** The site key as the service uses it: opened. */
export interface StoredSiteKey {
  id: string;
  key: string;
  createdAt: number;
  createdBy: string;
}

/** A line of a submitted list, ready to store. */
export type NewEnrolment = Pick<EnrolmentEntity, 'line' | 'name' | 'host' | 'port' | 'tagsJson' | 'state' | 'error'>;

/** What the service changes on a row; `token` is given in clear and stored sealed, `null` clears. */
export type EnrolmentPatch = Partial<
  Pick<EnrolmentEntity, 'state' | 'agentUid' | 'fingerprint' | 'hostname' | 'agentVersion' | 'error' | 'token' | 'agentId' | 'leaseUntil' | 'approvedBy'>
>;

/** The states a row is worked on or waits in: its name and agent are spoken for. */
export const ACTIVE_STATES: readonly EnrolmentState[] = ['contacting', 'pending', 'approved'];

/** What a person reads when a stored secret of site-key enrolment cannot be opened. */
export const SITE_KEY_LABEL = 'the site key';
export const claimTokenLabel = (row: Pick<EnrolmentEntity, 'name'>) => `the claim token of enrolment "${row.name}"`;

/** The site key (one at a time) and the enrolment rows; secrets sealed on the way in, opened on the way out. */
@Injectable()
export class EnrolmentsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Looked up per use: a key rotation gives the DataSource a new box. */
  private get box(): SecretBox {
    return secretBoxOf(this.dataSource);
  }

  async siteKey(): Promise<StoredSiteKey | null> {
    const [row] = await this.dataSource.getRepository(SiteKeyEntity).find({ order: { createdAt: 'DESC' }, take: 1 });
    return row ? { ...row, key: this.box.open(row.key, SITE_KEY_LABEL) } : null;
  }

  /** The site key from now on, in place of any other; audited in the same transaction. */
  async replaceSiteKey(key: string, createdBy: string, now: number, audit: (stored: StoredSiteKey) => AuditDraft): Promise<StoredSiteKey> {
    const stored: StoredSiteKey = { id: randomUUID(), key, createdAt: now, createdBy };
    await inTransaction(this.dataSource, async (m) => {
      await m.createQueryBuilder().delete().from(SiteKeyEntity).execute();
      await m.insert(SiteKeyEntity, { ...stored, key: this.box.seal(key) });
      await appendAudit(m, audit(stored), now);
    });
    return stored;
  }

  /** False when there was none. */
  async removeSiteKey(audit: () => AuditDraft): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const result = await m.createQueryBuilder().delete().from(SiteKeyEntity).execute();
      if (!result.affected) return false;
      await appendAudit(m, audit());
      return true;
    });
  }

  /** Stores a submitted list, one row per line, with its audit row. */
  async insertBatch(batchId: string, rows: readonly NewEnrolment[], submittedBy: string, now: number, audit: AuditDraft): Promise<EnrolmentEntity[]> {
    const entities = rows.map((r) =>
      this.dataSource.getRepository(EnrolmentEntity).create({
        ...r,
        id: randomUUID(),
        batchId,
        agentUid: null,
        fingerprint: null,
        hostname: null,
        agentVersion: null,
        token: null,
        agentId: null,
        leaseUntil: null,
        submittedBy,
        approvedBy: null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    await inTransaction(this.dataSource, async (m) => {
      // updateEntity(false): TypeORM reads defaulted columns (tags_json) back through RETURNING and
      // merges them into the entities by position, but SQLite returns a multi-row insert's rows in
      // no set order — a list's lines then came back with each other's tags now and then.
      for (const part of chunk(entities, 22)) await m.createQueryBuilder().insert().into(EnrolmentEntity).values(part).updateEntity(false).execute();
      await appendAudit(m, audit, now);
    });
    return entities;
  }

  /** Newest list first, each in line order; tokens never leave the repository. */
  async list(filter: { batchId?: string | undefined; state?: EnrolmentState | undefined } = {}): Promise<EnrolmentEntity[]> {
    const rows = await this.dataSource.getRepository(EnrolmentEntity).find({
      where: { ...(filter.batchId ? { batchId: filter.batchId } : {}), ...(filter.state ? { state: filter.state } : {}) },
      order: { createdAt: 'DESC', batchId: 'ASC', line: 'ASC' },
    });
    return rows.map((r) => ({ ...r, token: null }));
  }

  async findById(id: string): Promise<EnrolmentEntity | null> {
    const row = await this.dataSource.getRepository(EnrolmentEntity).findOneBy({ id });
    if (row?.token) row.token = this.box.open(row.token, claimTokenLabel(row));
    return row;
  }

  /** Rows being worked on or waiting, with these names or this agent id (for telling duplicates apart). */
  async findActive(where: { names?: readonly string[]; agentUid?: string }): Promise<EnrolmentEntity[]> {
    const repo = this.dataSource.getRepository(EnrolmentEntity);
    if (where.names) return where.names.length === 0 ? [] : repo.findBy({ state: In([...ACTIVE_STATES]), name: In([...where.names]) });
    return repo.findBy({ state: In([...ACTIVE_STATES]), agentUid: where.agentUid ?? '' });
  }

  /**
   * Takes up to `limit` rows due for work (to contact, or approved to claim) whose lease is free,
   * and leases them until `now + leaseMs`: a second collector on the same database leaves them
   * alone, and a collector that dies mid-work leaves them to be taken again after the lease.
   */
  async takeDue(now: number, limit: number, leaseMs: number): Promise<EnrolmentEntity[]> {
    // No transaction when nothing is due: the worker asks every few seconds, and a commit — even an
    // empty one — tells StorageHealth that storage works, which would end a disk-full episode early.
    if ((await this.nextDueAt(now)) !== now) return [];
    return inTransaction(this.dataSource, async (m) => {
      const query = m
        .createQueryBuilder(EnrolmentEntity, 'e')
        .where('e.state IN (:...states)', { states: ['contacting', 'approved'] })
        .andWhere('(e.leaseUntil IS NULL OR e.leaseUntil <= :now)', { now })
        .orderBy('e.createdAt', 'ASC')
        .addOrderBy('e.line', 'ASC')
        .limit(limit);
      const rows = await forUpdate(this.dataSource, query).getMany();
      if (rows.length > 0) await m.update(EnrolmentEntity, { id: In(rows.map((r) => r.id)) }, { leaseUntil: now + leaseMs });
      for (const row of rows) if (row.token) row.token = this.box.open(row.token, claimTokenLabel(row));
      return rows;
    });
  }

  /** Whether rows are due now or later (a lease running out): the worker's look before it sleeps. */
  async nextDueAt(now: number): Promise<number | null> {
    const repo = this.dataSource.getRepository(EnrolmentEntity);
    const free = await repo.count({
      where: [
        { state: In(['contacting', 'approved']), leaseUntil: IsNull() },
        { state: In(['contacting', 'approved']), leaseUntil: LessThanOrEqual(now) },
      ],
    });
    if (free > 0) return now;
    const [leased] = await repo.find({ where: { state: In(['contacting', 'approved']) }, order: { leaseUntil: 'ASC' }, take: 1 });
    return leased?.leaseUntil ?? null;
  }

  /**
   * First contact answered: the row waits for approval with what the agent said — unless another
   * row being worked on or waiting names the same agent, which is returned instead. The look and
   * the write are one transaction, so two lines naming one agent cannot both get through.
   */
  async markPending(
    id: string,
    fields: Pick<EnrolmentEntity, 'agentUid' | 'fingerprint' | 'hostname' | 'agentVersion'>,
    now: number,
  ): Promise<{ duplicate: EnrolmentEntity } | { row: EnrolmentEntity }> {
    return inTransaction(this.dataSource, async (m) => {
      const same = await m.findBy(EnrolmentEntity, { state: In([...ACTIVE_STATES]), agentUid: fields.agentUid ?? '' });
      const duplicate = same.find((r) => r.id !== id);
      if (duplicate) return { duplicate: { ...duplicate, token: null } };
      await m.update(EnrolmentEntity, { id }, { ...fields, state: 'pending', error: null, leaseUntil: null, updatedAt: now });
      return { row: { ...(await m.findOneByOrFail(EnrolmentEntity, { id })), token: null } };
    });
  }

  /** Changes a row (`audit`, when given, in the same transaction); the updated row, or null when it is gone. */
  async update(id: string, patch: EnrolmentPatch, now: number, audit?: (row: EnrolmentEntity) => AuditDraft): Promise<EnrolmentEntity | null> {
    return inTransaction(this.dataSource, async (m) => {
      const changes: Record<string, unknown> = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      if (typeof changes['token'] === 'string') changes['token'] = this.box.seal(changes['token']);
      const result = await m.update(EnrolmentEntity, { id }, { ...changes, updatedAt: now });
      if (!result.affected) return null;
      const row = (await m.findOneBy(EnrolmentEntity, { id }))!;
      if (audit) await appendAudit(m, audit(row), now);
      return { ...row, token: null };
    });
  }

  /**
   * Approves the rows of `ids` that wait for approval (the others are returned as they are): they
   * become `approved`, free to be claimed at once; one audit row for the lot.
   */
  async approve(
    ids: readonly string[],
    approvedBy: string,
    now: number,
    audit: (approved: EnrolmentEntity[]) => AuditDraft | null,
  ): Promise<{ approved: EnrolmentEntity[]; others: EnrolmentEntity[] }> {
    return inTransaction(this.dataSource, async (m) => {
      const rows =
        ids.length === 0 ? [] : await forUpdate(this.dataSource, m.createQueryBuilder(EnrolmentEntity, 'e').where('e.id IN (:...ids)', { ids })).getMany();
      const approved = rows.filter((r) => r.state === 'pending');
      const others = rows.filter((r) => r.state !== 'pending');
      if (approved.length > 0) {
        await m.update(
          EnrolmentEntity,
          { id: In(approved.map((r) => r.id)) },
          { state: 'approved', approvedBy, error: null, leaseUntil: null, updatedAt: now },
        );
        for (const r of approved) Object.assign(r, { state: 'approved', approvedBy, error: null, leaseUntil: null, updatedAt: now });
        const draft = audit(approved);
        if (draft) await appendAudit(m, draft, now);
      }
      const strip = (r: EnrolmentEntity) => ({ ...r, token: null });
      return { approved: approved.map(strip), others: others.map(strip) };
    });
  }

  /** Deletes a row with its audit row; false when it is gone or in one of `busy` states. */
  async delete(id: string, busy: readonly EnrolmentState[], audit: (row: EnrolmentEntity) => AuditDraft): Promise<EnrolmentEntity | 'busy' | null> {
    return inTransaction(this.dataSource, async (m) => {
      const row = await m.findOneBy(EnrolmentEntity, { id });
      if (!row) return null;
      if (busy.includes(row.state)) return 'busy';
      await m.delete(EnrolmentEntity, { id });
      await appendAudit(m, audit(row));
      return { ...row, token: null };
    });
  }

  /** Inside the transaction that registers the agent: the row is done, and its token no longer needed. */
  async markEnrolled(m: EntityManager, id: string, agentId: string, now: number): Promise<void> {
    await m.update(EnrolmentEntity, { id }, { state: 'enrolled', agentId, token: null, error: null, leaseUntil: null, updatedAt: now });
  }
}
