import { z } from 'zod';
import { ENROLMENT_STATES } from '../../../enrolment/enrolment.entity.js';
import { approveEnrolmentsDto, listEnrolmentsQuery, setSiteKeyDto, submitEnrolmentsDto } from '../../../enrolment/enrolment.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, tags, TOTAL_COUNT } from './shared.js';

/** enrolment/enrolments.service.ts SiteKeyStatus: never the key. */
const siteKeyStatus = z.strictObject({ set: z.boolean(), createdAt: epochMs.nullable(), createdBy: z.string().nullable() });

/** EnrolmentView: one line of a submitted list and how far it got. */
const enrolmentView = z.strictObject({
  id: z.string(),
  batch: z.string(),
  line: z.number().int(),
  name: z.string(),
  address: z.string(),
  tags,
  state: z.enum(ENROLMENT_STATES),
  agent: z.strictObject({ id: z.string(), hostname: z.string().nullable(), version: z.string().nullable() }).nullable(),
  fingerprint: z.string().nullable().meta({ description: 'SHA-256 of the certificate the agent presented: what a person approves' }),
  error: z.string().nullable(),
  enrolledAs: z.string().nullable().meta({ description: 'the agent registered from it' }),
  submittedBy: z.string(),
  approvedBy: z.string().nullable(),
  createdAt: epochMs,
  updatedAt: epochMs,
});

export function enrolmentRoutes(api: ApiRoutes): void {
  const status = api.component('SiteKeyStatus', siteKeyStatus);
  const enrolment = api.component('EnrolmentView', enrolmentView);
  api.add({
    method: 'get',
    path: '/site-key',
    role: 'admin',
    summary: 'Whether there is a site key',
    description: 'Since when and by whom — never the key.',
    ok: { status: 200, schema: status, description: 'The status.' },
  });
  api.add({
    method: 'post',
    path: '/site-key',
    role: 'admin',
    summary: 'Make a new site key',
    description: 'In place of any other: the answer is the only time it is shown.',
    ok: { status: 201, schema: status.extend({ key: z.string() }), description: 'The key and its status.' },
  });
  api.add({
    method: 'put',
    path: '/site-key',
    role: 'admin',
    summary: 'Set a site key made elsewhere',
    body: setSiteKeyDto,
    ok: { status: 200, schema: status, description: 'The status.' },
  });
  api.add({ method: 'delete', path: '/site-key', role: 'admin', summary: 'Remove the site key', ok: { status: 204, description: 'Removed.' } });
  api.add({
    method: 'post',
    path: '/agents/enrol',
    role: 'admin',
    summary: 'Enrol many agents with the site key',
    description: '`name,address[,tags]` a line; each is contacted in the background (`GET /enrolments?batch=` shows how far).',
    body: submitEnrolmentsDto,
    ok: { status: 202, schema: z.strictObject({ batch: z.string(), enrolments: z.array(enrolment) }), description: 'The list, taken.' },
    errors: [409],
  });
  api.add({
    method: 'get',
    path: '/enrolments',
    role: 'admin',
    summary: 'Every line of every list, newest list first',
    query: listEnrolmentsQuery,
    ok: { status: 200, schema: z.array(enrolment), description: 'The lines.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/enrolments/:id',
    role: 'admin',
    summary: 'One line',
    params: { id: "the line's id" },
    ok: { status: 200, schema: enrolment, description: 'The line.' },
  });
  api.add({
    method: 'post',
    path: '/enrolments/approve',
    role: 'admin',
    summary: 'Approve agents that answered',
    description: 'By the fingerprints of their certificates; claimed in the background.',
    body: approveEnrolmentsDto,
    ok: { status: 202, schema: z.array(enrolment), description: 'The lines approved.' },
    errors: [404, 409],
  });
  api.add({
    method: 'delete',
    path: '/enrolments/:id',
    role: 'admin',
    summary: 'Drop a line that is not being worked on',
    params: { id: "the line's id" },
    ok: { status: 204, description: 'Dropped.' },
    errors: [409],
  });
}
