import { z } from 'zod';
import { instantParam } from '../alerting/fields.js';
import { limitParam, offsetParam, sortParam } from '../shared/dto.js';
import { AUDIT_ACTIONS } from './audit.types.js';

const families = [...new Set(AUDIT_ACTIONS.map((a) => a.slice(0, a.indexOf('.'))))];
const actionHelp = `must be an action (${AUDIT_ACTIONS.join(', ')}) or a family like ${families.map((f) => `${f}.*`).join(', ')}`;

/** Query text: an empty `?actor=` is as good as none. */
const optionalText = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().max(max, `must be at most ${max} characters`).optional());

function auditFilters(maxLimit: number, defaultLimit: number) {
  return z.object({
    from: instantParam(),
    to: instantParam(),
    actor: optionalText(200),
    action: optionalText(64).refine(
      (a) => a === undefined || (AUDIT_ACTIONS as readonly string[]).includes(a) || families.some((f) => a === `${f}.*`),
      actionHelp,
    ),
    target: optionalText(200),
    before: z.coerce
      .number({ error: 'must be the id of an audit row' })
      .int('must be the id of an audit row')
      .min(1, 'must be the id of an audit row')
      .optional(),
    limit: limitParam(maxLimit, defaultLimit),
    offset: offsetParam(),
    // The log's own order (time, as appended); newest first unless asked.
    sort: sortParam(['at'], '-at'),
  });
}

/** `GET /api/v1/audit?from=&to=&actor=&action=&target=&sort=at|-at&limit=&offset=&before=` (from inclusive, to exclusive). */
export const auditQuery = auditFilters(1000, 100);
export type AuditQuery = z.output<typeof auditQuery>;

/** `GET /api/v1/audit.csv`: the same filters, larger pages. */
export const auditCsvQuery = auditFilters(100_000, 10_000);
