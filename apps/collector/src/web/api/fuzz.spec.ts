import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { startWebTestApp, type WebTestApp } from '../testing.js';
import { rowCount, tableNames } from '../../storage/testing.js';
import { AgentsController } from './agents.controller.js';
import { AlertingController } from './alerting.controller.js';
import { ChannelsController } from './channels.controller.js';
import { ChecksController } from './checks.controller.js';
import { ConfigController } from './config.controller.js';
import { EnrolmentsController } from './enrolments.controller.js';
import { MeController } from './me.controller.js';
import { OnCallController } from './on-call.controller.js';
import { RoutingController } from './routing.controller.js';
import { TokensController } from './tokens.controller.js';
import { UsersController } from './users.controller.js';

/** Every API controller that changes something; the walk below finds their routes that read a body. */
const WRITERS: Type[] = [
  AgentsController,
  ChecksController,
  ChannelsController,
  RoutingController,
  AlertingController,
  UsersController,
  MeController,
  TokensController,
  EnrolmentsController,
  ConfigController,
  OnCallController,
];

const VERBS: Partial<Record<RequestMethod, string>> = { [RequestMethod.POST]: 'POST', [RequestMethod.PUT]: 'PUT', [RequestMethod.PATCH]: 'PATCH' };

/** `METHOD /api/v1/…` of every write handler with a @Body parameter, read from Nest's own route metadata. */
function bodyRoutes(): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  for (const controller of WRITERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const verb = VERBS[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, unknown>;
      if (!verb || !Object.keys(args).some((key) => key.startsWith(`${RouteParamtypes.BODY}:`))) continue;
      const path = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      routes.push({ method: verb, path: `/${[base, path].filter((p) => p && p !== '/').join('/')}` });
    }
  }
  return routes;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed from the seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  'name',
  'enrol',
  'agent',
  'plugin',
  'config',
  'intervalMs',
  'timeoutMs',
  'enabled',
  'tags',
  'type',
  'matchers',
  'comment',
  'duration',
  'startsAt',
  'endsAt',
  'role',
  'password',
  'expires',
  'url',
  'by',
  'failuresBeforeHard',
  'recurrence',
  'timeZone',
  'labels',
  'rotations',
  'contacts',
  'user',
  'start',
  'end',
];

/**
 * Bodies no write route accepts: JSON that is not the object a route reads, JSON that does not
 * parse, and objects that carry an unknown field (every body schema is strict) besides fields of
 * the right names holding values of any type — deep nesting, control characters, huge strings,
 * prototype keys.
 */
function malformedBodies(next: () => number, count: number): { text: string; why: string }[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const value = (depth: number): unknown => {
    const kind = Math.floor(next() * (depth > 3 ? 7 : 10));
    switch (kind) {
      case 0:
        return null;
      case 1:
        return pick([0, -1, 1e308, -0.5, 2 ** 53 + 1, 65536]);
      case 2:
        return pick([
          '',
          ' ',
          '30',
          'every minute',
          'x'.repeat(5000),
          '\u0000\u0085\u202e',
          'rounds://',
          '../../etc/passwd',
          '<script>alert(1)</script>',
          '1970-01-01T00:00:00Z',
        ]);
      case 3:
        return next() < 0.5;
      case 4:
        return pick(['NaN', '-5m', '99999d', 'P1D']);
      case 5:
        return { ['__proto__']: { polluted: true } };
      case 6:
        return 'ünïcödé \ud83d\ude00';
      case 7:
        return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = Math.floor(next() * 4); i > 0; i--) o[pick(FIELDS)] = value(depth + 1);
        return o;
      }
    }
  };
  const bodies: { text: string; why: string }[] = [];
  for (let i = 0; i < count; i++) {
    const shape = i % 5;
    if (shape === 0) {
      const v = pick([null, 42, '"text"', true, '[null]', '[[], {}]', '[1, 2, 3]']);
      bodies.push({ text: String(v), why: 'not an object' });
    } else if (shape === 1) {
      bodies.push({ text: pick(['{', '{"name": ', "{'name': 'x'}", '{"a":1,}', '\u0000', '{"name": "x"} trailing']), why: 'not JSON' });
    } else if (shape === 2) {
      let nested = '{"deep": 1}';
      for (let d = Math.floor(next() * 400) + 50; d > 0; d--) nested = `{"name": ${nested}}`;
      bodies.push({ text: nested, why: 'deeply nested' });
    } else {
      const o: Record<string, unknown> = {};
      for (let f = Math.floor(next() * 6); f > 0; f--) o[pick(FIELDS)] = value(0);
      o[`fuzz${i}`] = value(1);
      const text = JSON.stringify(o).replace('{', shape === 3 ? '{"__proto__": {"isAdmin": true}, ' : '{"constructor": {"prototype": {"x": 1}}, ');
      bodies.push({ text, why: 'an unknown field among typed-at-random ones' });
    }
  }
  return bodies;
}

describe('the API against malformed bodies on every write route', { timeout: 300_000 }, () => {
  let web: WebTestApp;
  let token = '';
  const ids: Record<string, string> = {};

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${web.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as { id: string };
  };

  /** Rows in every table: "nothing stored" means none of these moved. */
  const rowCounts = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const name of await tableNames(web.dataSource)) counts[name] = await rowCount(web.dataSource, name);
    return counts;
  };

  before(async () => {
    web = await startWebTestApp();
    await web.addUser('fuzzer', 'admin');
    token = await web.token('fuzzer');
    // Real targets for the :id of each route, so bodies reach the handlers and not only a 404.
    ids.agent = (await api('POST', '/api/v1/agents', { name: 'pacs-01', enrol: `rounds://${'t'.repeat(43)}@127.0.0.1:9?fp=${'a'.repeat(64)}` })).id;
    ids.check = (await api('POST', '/api/v1/checks', { agent: 'pacs-01', name: 'web', plugin: 'http', config: { url: 'http://127.0.0.1:9/' } })).id;
    ids.channel = (await api('POST', '/api/v1/channels', { name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } })).id;
    await api('POST', '/api/v1/on-call/schedules', {
      name: 'team',
      timeZone: 'UTC',
      rotations: [{ users: ['fuzzer'], handoff: { interval: 'daily' }, start: '2026-01-01' }],
    });
    await api('POST', '/api/v1/silences', { matchers: ['agent="pacs-01"'], comment: 'racks', duration: '2h' });
    await web.addUser('someone', 'viewer');
  });
  after(() => web.close());

  it('finds the write routes that read a body (a route added later is fuzzed without a change here)', () => {
    const found = bodyRoutes().map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'POST /api/v1/agents',
      'PATCH /api/v1/checks/:id',
      'PUT /api/v1/alert-rules',
      'POST /api/v1/users',
      'POST /api/v1/tokens',
      'POST /api/v1/agents/enrol',
      'POST /api/v1/config/apply',
    ]) {
      assert.ok(found.includes(expected), `${expected} not found among ${found.join(', ')}`);
    }
  });

  it('answers several hundred malformed bodies with 4xx problem details — no 5xx, no crash — and stores nothing', async () => {
    const routes = bodyRoutes();
    const bodies = malformedBodies(random(20261204), 30);
    const target = (path: string) =>
      path
        .replace('/agents/:id', `/agents/${ids.agent}`)
        .replace('/checks/:id', `/checks/${ids.check}`)
        .replace('/channels/:id', `/channels/${ids.channel}`)
        .replace('/users/:name', '/users/someone')
        .replace('/on-call/schedules/:schedule', '/on-call/schedules/team')
        .replace(/:(\w+)/g, 'no-such-$1');
    const before = await rowCounts();
    const failures: string[] = [];
    let sent = 0;
    for (const route of routes) {
      for (const body of bodies) {
        const res = await fetch(`${web.base}${target(route.path)}`, {
          method: route.method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body.text,
        });
        const text = await res.text();
        sent++;
        if (res.status < 400 || res.status >= 500)
          failures.push(`${route.method} ${route.path} (${body.why}): ${res.status} ${text.slice(0, 200)} ← ${body.text.slice(0, 120)}`);
        else if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? ''))
          failures.push(`${route.method} ${route.path}: ${res.status} is not problem details`);
      }
    }
    assert.ok(sent >= 300, `only ${sent} bodies sent`);
    assert.deepEqual(failures, []);
    assert.equal((await fetch(`${web.base}/healthz`)).status, 200, 'the collector still answers');
    assert.deepEqual(await rowCounts(), before, 'a malformed body stored something');
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype was not polluted');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
