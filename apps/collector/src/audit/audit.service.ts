import { Injectable } from '@nestjs/common';
import { ChainVerifier, type ChainBreak } from './audit-chain.js';
import { auditCsv } from './audit-csv.js';
import { AuditRepository, type AuditFilter } from './audit.repository.js';
import type { AuditEntry } from './audit.types.js';

/** Rows read at a time while verifying: the whole log never sits in memory. */
const VERIFY_BATCH = 1000;

export type VerifyResult = { ok: true; count: number; head: { id: number; hash: string } } | { ok: false; checked: number; broken: ChainBreak };

/**
 * Reading the audit log: the filtered list, its CSV export, and verifying the hash chain.
 * Rows are appended by the repositories of the changes themselves (appendAudit), in the
 * transaction that makes the change.
 */
@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  list(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.audit.find(filter);
  }

  /** The API's list: one page and how many rows match. */
  page(filter: AuditFilter): Promise<{ total: number; page: AuditEntry[] }> {
    return this.audit.findPage(filter);
  }

  async csv(filter: AuditFilter): Promise<string> {
    return auditCsv(await this.audit.find(filter));
  }

  /** Walks the chain from its first row; stops at the first row that breaks it. */
  async verify(): Promise<VerifyResult> {
    const verifier = new ChainVerifier();
    let afterId = 0;
    for (;;) {
      const rows = await this.audit.page(afterId, VERIFY_BATCH);
      if (rows.length === 0) break;
      if (!verifier.add(rows)) return { ok: false, checked: verifier.count, broken: verifier.broken! };
      afterId = rows[rows.length - 1]!.id;
    }
    return { ok: true, count: verifier.count, head: verifier.head };
  }
}
