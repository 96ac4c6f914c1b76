import type { DataSource } from 'typeorm';
import { isPostgres } from '../storage/transaction.js';
import type { AuditContext } from './audit.types.js';

/** Who acts in service specs that are not about the audit log. */
export const SPEC_AUDIT: AuditContext = Object.freeze({ actor: 'spec', source: 'system', address: null, userAgent: null });

/**
 * Tampering, as someone with the database would: the append-only triggers of the audit-log
 * migration go first (on PostgreSQL they hang off one function, which takes them along).
 */
export async function dropAppendOnlyGuards(dataSource: DataSource): Promise<void> {
  if (isPostgres(dataSource)) {
    await dataSource.query('DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE');
    return;
  }
  await dataSource.query('DROP TRIGGER IF EXISTS audit_log_no_update');
  await dataSource.query('DROP TRIGGER IF EXISTS audit_log_no_delete');
}
