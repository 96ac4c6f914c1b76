import { z } from 'zod';
import { applyConfigDto, exportConfigQuery } from '../../../config-document/config-document.js';
import type { ApiRoutes } from './routes.js';

/**
 * config-document/config-document.ts: the document as exported. Its entries are shown loosely
 * here: each is what the section's own API route takes (the request body below is the exact schema).
 */
const section = z.array(z.record(z.string(), z.unknown()));
const configDocument = z.strictObject({
  apiVersion: z.literal('rounds/v1'),
  kind: z.literal('Config'),
  agents: section.optional(),
  checks: section.optional(),
  channels: section.optional(),
  rules: section.optional(),
  maintenance: section.optional(),
  notificationPolicies: section.optional(),
});

const planItem = z.strictObject({
  action: z.enum(['create', 'update', 'delete']),
  kind: z.enum(['agent', 'check', 'channel', 'rule', 'maintenance', 'notification-policy']),
  name: z.string(),
  changes: z
    .array(z.strictObject({ path: z.string(), from: z.unknown(), to: z.unknown() }))
    .meta({ description: 'as the document writes them; secrets shown as ••••••' }),
});

/** Configuration as code: `rounds-collector config export|apply` talk to these. */
export function configRoutes(api: ApiRoutes): void {
  const plan = z.array(api.component('PlanItem', planItem));
  api.add({
    method: 'get',
    path: '/config',
    role: 'admin',
    summary: 'Export the configuration as one document',
    description:
      'Agents, checks, channels, alert rules, maintenance windows and notification policies (in the order they are matched), matched by name. Secrets are `{env: ROUNDS_SECRET_…}` references unless `?secrets=true` (audited).',
    query: exportConfigQuery,
    ok: { status: 200, schema: api.component('ConfigDocument', configDocument), description: 'The document.' },
  });
  api.add({
    method: 'post',
    path: '/config/plan',
    role: 'admin',
    summary: 'What applying a document would change',
    body: applyConfigDto,
    ok: { status: 200, schema: plan, description: 'The plan: nothing is written.' },
  });
  api.add({
    method: 'post',
    path: '/config/apply',
    role: 'admin',
    summary: 'Apply a document',
    description: 'Every change of the plan in one transaction, each audited as its own API call would be; on any error nothing is stored.',
    body: applyConfigDto,
    ok: {
      status: 200,
      schema: z.strictObject({ plan, applied: z.boolean().meta({ description: 'false when there was nothing to change' }) }),
      description: 'Applied.',
    },
  });
}
