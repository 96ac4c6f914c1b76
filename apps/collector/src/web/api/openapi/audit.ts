import { z } from 'zod';
import { AUDIT_SOURCES } from '../../../audit/audit.types.js';
import { auditCsvQuery, auditQuery } from '../../../audit/audit.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** audit/audit.types.ts AuditEntry: one change, chained to the one before by its hash. */
const auditEntry = z.strictObject({
  id: z.number().int(),
  at: epochMs,
  actor: z.string(),
  source: z.enum(AUDIT_SOURCES),
  address: z.string().nullable(),
  userAgent: z.string().nullable(),
  action: z.string(),
  target: z.strictObject({ kind: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
  before: z.unknown(),
  after: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});

const FILTERS =
  '`?from=&to=` (ISO time or epoch ms; `to` exclusive), `?actor=`, `?action=` (or `channel.*`), `?target=` (id or name), `?before=<id>` to page back.';

export function auditRoutes(api: ApiRoutes): void {
  api.add({
    method: 'get',
    path: '/audit',
    role: 'admin',
    summary: 'The audit log, newest first',
    description: FILTERS,
    query: auditQuery,
    ok: { status: 200, schema: z.array(api.component('AuditEntry', auditEntry)), description: 'The entries.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/audit.csv',
    role: 'admin',
    summary: 'The audit log as CSV',
    description: `${FILTERS} Cells that would start a spreadsheet formula are prefixed with \`'\`.`,
    query: auditCsvQuery,
    ok: { status: 200, csv: true, description: 'RFC 4180 CSV.' },
  });
}
