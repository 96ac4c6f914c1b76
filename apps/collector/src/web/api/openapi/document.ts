import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ROUNDS_VERSION } from '#rounds/common';
import { accountRoutes } from './account.js';
import { agentRoutes } from './agents.js';
import { alertingRoutes } from './alerting.js';
import { auditRoutes } from './audit.js';
import { channelRoutes } from './channels.js';
import { checkRoutes } from './checks.js';
import { configRoutes } from './config.js';
import { enrolmentRoutes } from './enrolments.js';
import { onCallRoutes } from './on-call.js';
import { reportRoutes } from './reports.js';
import { ApiRoutes, type Route } from './routes.js';
import { routingRoutes } from './routing.js';
import { seriesRoutes } from './series.js';
import { userRoutes } from './users.js';

/** Every area of /api/v1, one file each; a test holds this list to the routes Nest registers. */
const AREAS: readonly ((api: ApiRoutes) => void)[] = [
  agentRoutes,
  checkRoutes,
  seriesRoutes,
  reportRoutes,
  alertingRoutes,
  channelRoutes,
  onCallRoutes,
  routingRoutes,
  enrolmentRoutes,
  accountRoutes,
  userRoutes,
  auditRoutes,
  configRoutes,
];

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

let built: { document: OpenApiDocument; routes: readonly Route[] } | undefined;

/**
 * The OpenAPI 3.1 document of /api/v1, built once from the zod schemas the controllers parse
 * requests with (so a field added to a DTO shows here without another edit) and the views the
 * services answer with.
 */
export function openApiDocument(): OpenApiDocument {
  return (built ??= build()).document;
}

/** The routes the document was made from, with the schemas of their bodies and queries. */
export function documentedRoutes(): readonly Route[] {
  return (built ??= build()).routes;
}

function build(): { document: OpenApiDocument; routes: readonly Route[] } {
  const api = new ApiRoutes();
  api.registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token: made on the Account page or by `POST /api/v1/tokens`; it carries its owner’s role.',
  });
  api.registry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'rounds_session',
    description: 'A signed-in browser’s session (`__Host-rounds_session` over TLS); a change must also send the page’s CSRF token as `X-CSRF-Token`.',
  });
  for (const area of AREAS) area(api);
  api.add({
    method: 'get',
    path: '/openapi.json',
    role: 'viewer',
    summary: 'This document',
    description: 'Viewed at /api/docs.',
    ok: { status: 200, schema: z.record(z.string(), z.unknown()), description: 'The OpenAPI 3.1 document.' },
  });
  const document = new OpenApiGeneratorV31(api.registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Rounds collector API',
      version: ROUNDS_VERSION,
      description:
        'Agents, checks, results and history, alerts, silences, maintenance windows, channels, users, tokens and the audit log. ' +
        'Errors are RFC 9457 problem details naming the fields at fault; every change is audited.',
    },
    security: [{ bearer: [] }, { session: [] }],
  });
  return { document, routes: api.routes };
}
