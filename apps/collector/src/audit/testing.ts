import type { AuditContext } from './audit.types.js';

/** Who acts in service specs that are not about the audit log. */
export const SPEC_AUDIT: AuditContext = Object.freeze({ actor: 'spec', source: 'system', address: null, userAgent: null });
