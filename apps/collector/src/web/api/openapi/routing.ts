import { z } from 'zod';
import { WEEKDAYS } from '#rounds/common';
import { SEVERITIES } from '../../../alerting/alerts.js';
import { STEP_STATUSES } from '../../../routing/routing.entity.js';
import { explainDto, listPoliciesQuery, policyDto, routingSettingsDto } from '../../../routing/routing.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** routing/policy.ts RouteTarget (a channel by id once stored). */
const target = z.union([z.strictObject({ channel: z.string() }), z.strictObject({ schedule: z.string() }), z.strictObject({ allChannels: z.literal(true) })]);
const steps = z.array(z.strictObject({ after: z.number().int().meta({ description: 'milliseconds after the alert fired' }), targets: z.array(target) }));
const span = { timeZone: z.string(), days: z.array(z.enum(WEEKDAYS)), from: z.string(), to: z.string() };

/** routing/policies.service.ts PolicyView. */
const policyView = z.strictObject({
  id: z.string(),
  name: z.string(),
  position: z.number().int().meta({ description: '0-based place in the judging order' }),
  matchers: z.array(z.string()),
  severities: z.array(z.enum(SEVERITIES)),
  time: z.union([z.strictObject({ active: z.enum(['working-hours', 'off-hours']) }), z.strictObject(span)]).nullable(),
  continue: z.boolean(),
  steps,
  createdAt: epochMs,
  updatedAt: epochMs,
});

const settingsView = z.strictObject({
  defaultRoute: steps.nullable().meta({ description: 'null: every enabled channel at once' }),
  workingHours: z.strictObject(span),
});

const verdict = z.strictObject({ policy: z.string(), matched: z.boolean(), why: z.string() });
const channelRef = z.strictObject({ id: z.string(), name: z.string() });
const step = z.strictObject({
  policy: z.string(),
  step: z.number().int(),
  after: z.number().int(),
  dueAt: epochMs,
  status: z.enum([...STEP_STATUSES, 'planned']),
  targets: z.array(target),
  channels: z.array(channelRef),
  note: z.string().nullable(),
  settledAt: epochMs.nullable(),
});
const explanation = { at: epochMs, policies: z.array(verdict), routes: z.array(z.string()), steps: z.array(step) };

const REF = { ref: "the policy's id or name" };

export function routingRoutes(api: ApiRoutes): void {
  const policy = api.component('NotificationPolicy', policyView);
  const stepView = api.component('RoutingStep', step);
  const explained = { ...explanation, steps: z.array(stepView) };
  api.add({
    method: 'get',
    path: '/notification-policies',
    role: 'viewer',
    query: listPoliciesQuery,
    summary: 'Notification policies',
    description: 'In the order they are judged: the first that takes an alert ends the walk unless it says continue.',
    ok: { status: 200, schema: z.array(policy), description: 'The policies.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/notification-policies/:ref',
    role: 'viewer',
    summary: 'One policy',
    params: REF,
    ok: { status: 200, schema: policy, description: 'The policy.' },
  });
  api.add({
    method: 'post',
    path: '/notification-policies',
    role: 'admin',
    summary: 'Add a policy',
    description: 'Channels may be named by id or name (stored by id); `position` absent: at the end.',
    body: policyDto,
    ok: { status: 201, schema: policy, description: 'The policy.' },
    errors: [409],
  });
  api.add({
    method: 'put',
    path: '/notification-policies/:ref',
    role: 'admin',
    summary: 'Replace a policy',
    params: REF,
    body: policyDto,
    ok: { status: 200, schema: policy, description: 'The policy as replaced.' },
    errors: [409],
  });
  api.add({
    method: 'delete',
    path: '/notification-policies/:ref',
    role: 'admin',
    summary: 'Remove a policy',
    params: REF,
    ok: { status: 204, description: 'Removed.' },
  });
  api.add({
    method: 'post',
    path: '/notification-policies/explain',
    role: 'viewer',
    summary: 'Where an alert would go, and when',
    description: 'Judges the policies for these labels and severity at `at` (default now); writes nothing.',
    body: explainDto,
    ok: {
      status: 200,
      schema: z.strictObject(explained),
      description: 'Each policy with why it takes the alert or not, and each step with its due time and channels.',
    },
  });
  api.add({
    method: 'get',
    path: '/notification-routing',
    role: 'viewer',
    summary: 'Routing settings',
    ok: { status: 200, schema: settingsView, description: 'The default route and the working hours.' },
  });
  api.add({
    method: 'put',
    path: '/notification-routing',
    role: 'admin',
    summary: 'Set the routing settings',
    body: routingSettingsDto,
    ok: { status: 200, schema: settingsView, description: 'The settings as set.' },
  });
  api.add({
    method: 'get',
    path: '/alerts/:fingerprint/routing',
    role: 'viewer',
    summary: "An alert's routing and escalation timeline",
    description: 'The policies judged when it fired, and its steps: sent (to which channels), pending (due when), cancelled (why).',
    params: { fingerprint: "the alert's fingerprint" },
    ok: {
      status: 200,
      schema: z.strictObject({
        ...explained,
        fingerprint: z.string(),
        name: z.string(),
        state: z.enum(['pending', 'firing', 'resolved']),
        timeline: z.enum(['recorded', 'planned']),
        notified: z.array(channelRef),
      }),
      description: 'The routing of the alert.',
    },
  });
}
