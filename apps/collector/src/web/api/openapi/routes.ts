import { OpenAPIRegistry, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { AccessLevel } from '../../../auth/access.decorator.js';
import { PROBLEM_JSON, problemSchema } from '../problem.js';

/** Where every route of the document lives; the paths below are relative to it. */
export const API_PREFIX = '/api/v1';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A 2xx answer with a JSON body (or CSV text), or 204 without one. */
export type Success =
  | { status: 200 | 201 | 202; schema: z.ZodType; description: string; csv?: false; headers?: Record<string, string> }
  | { status: 200; csv: true; description: string }
  | { status: 204; description: string };

/** One route as the document tells it: what it takes, what it answers, and who may call it. */
export interface Route {
  method: Method;
  /** Nest's form, relative to /api/v1: `/agents/:id`. */
  path: string;
  /** As the controller's `@Access`: the least role, `self` for any signed-in user. */
  role: AccessLevel;
  summary: string;
  description?: string;
  /**
   * What each path parameter names, e.g. `{ id: "the agent's id or name" }` (text), or the schema
   * the controller's pipe parses it with; every `:param` of the path must have one.
   */
  params?: Record<string, string | { schema: z.ZodType; description: string }>;
  /** The very schemas the controller's ZodPipe parses with — imported, never copied. */
  query?: z.ZodType;
  body?: z.ZodType;
  ok: Success;
  /** The 4xx the route may answer besides 401, 403 and 429 (which every route may); 400 and 404 are added when it takes input or names a thing. */
  errors?: number[];
}

const ERROR_TEXT: Record<number, string> = {
  400: 'The query or body is invalid: `errors` names each field and what it must be.',
  401: 'No valid session or API token.',
  403: "The caller's role is below the route's, or a browser's change came without its CSRF token.",
  404: 'No such thing (the path names it).',
  409: 'It conflicts with what exists (a taken name, a state that does not allow it).',
  413: 'The body is larger than the collector takes.',
  415: 'The body was not sent as JSON: send `content-type: application/json`.',
  429: 'Too many failed token attempts from this address: wait as Retry-After says.',
  502: 'The agent or channel could not be reached or refused.',
  503: 'The collector cannot do it now.',
};

/**
 * The routes of /api/v1 as an OpenAPI registry: each `add` becomes one operation with its path
 * parameters, query, body, answers (the problem schema for every 4xx), role and security.
 */
export class ApiRoutes {
  readonly registry = new OpenAPIRegistry();
  /** As added: what a spec holds the controllers to. */
  readonly routes: Route[] = [];
  private readonly problem = this.component('Problem', problemSchema);

  /**
   * A schema under `components/schemas/<name>`, referenced wherever it is used. Named by zod's
   * own `.meta({ id })`, which the generator reads: its `.openapi()` would need zod's prototype
   * patched before any schema of the app is made.
   */
  component<S extends z.ZodType>(name: string, schema: S): S {
    return schema.meta({ id: name });
  }

  add(route: Route): void {
    this.routes.push(route);
    const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const params = Object.fromEntries(
      names.map((name) => {
        const param = route.params?.[name];
        if (param === undefined) throw new Error(`${route.method.toUpperCase()} ${route.path}: say what :${name} names`);
        return [name, typeof param === 'string' ? z.string().meta({ description: param }) : param.schema.meta({ description: param.description })];
      }),
    );
    const statuses = new Set([401, 403, 429, ...(route.errors ?? [])]);
    if (route.query || route.body) statuses.add(400);
    if (route.body) for (const status of [413, 415]) statuses.add(status);
    if (names.length > 0) statuses.add(404);
    const responses: Record<string, ResponseConfig> = { [route.ok.status]: this.success(route.ok) };
    for (const status of [...statuses].sort()) {
      responses[status] = { description: ERROR_TEXT[status] ?? 'Refused.', content: { [PROBLEM_JSON]: { schema: this.problem } } };
    }
    this.registry.registerPath({
      method: route.method,
      path: API_PREFIX + route.path.replace(/:(\w+)/g, '{$1}'),
      operationId: operationId(route.method, route.path),
      tags: [tagOf(route.path)],
      summary: route.summary,
      description: [route.description, `Needs: ${route.role === 'self' ? 'any signed-in user' : `${route.role} or above`}.`].filter(Boolean).join('\n\n'),
      'x-rounds-role': route.role,
      request: {
        ...(names.length > 0 ? { params: z.object(params) } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses,
    });
  }

  private success(ok: Success): ResponseConfig {
    if (ok.status === 204) return { description: ok.description };
    if (ok.csv) return { description: ok.description, content: { 'text/csv': { schema: z.string() } } };
    return {
      description: ok.description,
      ...(ok.headers ? { headers: Object.fromEntries(Object.entries(ok.headers).map(([h, d]) => [h, { description: d, schema: { type: 'integer' } }])) } : {}),
      content: { 'application/json': { schema: ok.schema } },
    };
  }
}

/** The area a path belongs to, for grouping in the viewer: `/checks/:id/policy` → checks. */
function tagOf(path: string): string {
  return path.split('/')[1]!.replace(/\.csv$/, '');
}

/** `get /agents/:id/rotate-token` → `getAgentsIdRotateToken`: unique per method and path. */
function operationId(method: Method, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
