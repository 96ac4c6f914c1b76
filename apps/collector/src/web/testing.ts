import { randomBytes } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DataSource } from 'typeorm';
import { ManualClock, systemClock } from '#rounds/common';
import { createCollectorApp } from '../cli/app.js';
import { readCollectorConfig } from '../config/env.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { makeTestDatabase, type TestDatabaseHandle } from '../storage/testing.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { ApiTokensService } from '../auth/api-tokens.service.js';
import type { UserRole } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';

/** An answer as a spec reads it: the status, the headers, the body as text. */
export interface WebAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** Where a redirect points (Location), or null. */
  location: string | null;
}

/**
 * A browser as far as the server can tell: it keeps the session cookie, sends forms as
 * `application/x-www-form-urlencoded` with the Origin a browser would send, and follows nothing
 * by itself (specs look at every redirect). `csrf` is the token of the last page that had a form.
 */
export class FakeBrowser {
  cookie: string | undefined;
  csrf = '';
  /** The Set-Cookie header of the last answer that had one. */
  lastSetCookie: string | null = null;

  constructor(readonly base: string) {}

  get(path: string, headers: Record<string, string> = {}): Promise<WebAnswer> {
    return this.request('GET', path, undefined, headers);
  }

  /** Posts a form with the page's CSRF token unless `fields` sets `_csrf` (or `csrf: false` leaves it out). */
  post(path: string, fields: Record<string, string> = {}, options: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<WebAnswer> {
    const form = new URLSearchParams(options.csrf === false || '_csrf' in fields ? fields : { _csrf: this.csrf, ...fields });
    return this.request('POST', path, form.toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(this.base).origin,
      ...options.headers,
    });
  }

  async request(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<WebAnswer> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      body,
      redirect: 'manual',
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) {
      this.lastSetCookie = setCookie;
      const [pair] = setCookie.split(';');
      // An expired (cleared) cookie is forgotten as a browser would.
      this.cookie = /expires=Thu, 01 Jan 1970/i.test(setCookie) ? undefined : pair;
    }
    const text = await res.text();
    const csrf = /name="_csrf" value="([^"]*)"/.exec(text)?.[1];
    if (csrf) this.csrf = csrf;
    return { status: res.status, headers: res.headers, text, location: res.headers.get('location') };
  }

  /** Signs in with a password (and nothing else owed): the answer of the password step. */
  async signIn(name: string, password: string): Promise<WebAnswer> {
    await this.get('/sign-in');
    return this.post('/sign-in', { name, password, next: '/' }, { csrf: false });
  }
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route the Nest router has registered, as `METHOD /path` (Nest's `:param` form), read from Express itself. */
export function registeredRoutes(web: WebTestApp): string[] {
  const express = web.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } };
  return express.router.stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods)
          .filter((m) => m !== '_all' && m !== 'head')
          .map((m) => `${m.toUpperCase()} ${layer.route!.path}`)
      : [],
  );
}

export interface WebTestApp {
  app: NestExpressApplication;
  base: string;
  clock: ManualClock;
  dataSource: DataSource;
  /** The first admin's generated password (they must change it at first sign-in); '' on an app that joined another's database. */
  adminPassword: string;
  /** The app's database: another app started with `{ database }` shares it (a second collector). */
  database: TestDatabaseHandle;
  users: UsersService;
  /** Adds a user with a chosen password that need not be changed, and returns it. */
  addUser(name: string, role: UserRole): Promise<string>;
  /** An API token of `name`. */
  token(name: string): Promise<string>;
  /** A browser signed in (fully) as a new user of `role`. */
  browserAs(role: UserRole, name?: string): Promise<FakeBrowser>;
  close(): Promise<void>;
}

/**
 * The whole serving collector in-process (every module, the access guard, the security headers),
 * on a loopback port, with a fresh data dir and a clock the spec moves (or, with `realTime`, the
 * system's: the poller then polls real agents as the collector does).
 */
export async function startWebTestApp(
  env: Record<string, string> = {},
  options: { realTime?: boolean; database?: TestDatabaseHandle } = {},
): Promise<WebTestApp> {
  // With `database`, a second collector on another app's database: that app disposes of it.
  const database = options.database ?? (await makeTestDatabase('rounds-web-'));
  // No API rate limit unless the spec sets one: specs call in bursts (rate-limit.spec tests it).
  const config = readCollectorConfig({
    ...database.env,
    ROUNDS_HTTP_PORT: '0',
    ROUNDS_LOG_LEVEL: 'error',
    ROUNDS_API_RATE_LIMIT: '0',
    ...env,
  });
  const clock = new ManualClock(Date.now());
  // realTime: the app runs on the system clock (the poller polls real agents on its own); `clock` is then not the app's.
  const { app, firstAdmin } = await createCollectorApp(config, { logger: false, clock: options.realTime ? systemClock : clock });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const users = app.get(UsersService);
  const addUser = async (name: string, role: UserRole): Promise<string> => {
    const password = `pass-${randomBytes(12).toString('base64url')}`;
    await users.add({ name, role, password }, SPEC_AUDIT);
    // A password typed in for someone must be changed at first sign-in; these stand for ones the users chose.
    const user = (await users.findForSignIn(name))!;
    await users.changePassword(user.id, password, `${password}!`, SPEC_AUDIT);
    return `${password}!`;
  };
  let made = 0;
  return {
    app,
    base,
    clock,
    dataSource: app.get<DataSource>(DATA_SOURCE),
    adminPassword: firstAdmin?.password ?? '',
    database,
    users,
    addUser,
    async token(name) {
      return (await app.get(ApiTokensService).create(name, { name: `spec-${++made}` }, SPEC_AUDIT)).token;
    },
    async browserAs(role, name = `${role}-${++made}`) {
      const password = await addUser(name, role);
      const browser = new FakeBrowser(base);
      const answer = await browser.signIn(name, password);
      if (answer.status !== 303 || answer.location !== '/')
        throw new Error(`signing in ${name} gave ${answer.status} ${answer.location}: ${answer.text.slice(0, 300)}`);
      await browser.get('/account'); // a page with forms: its CSRF token
      return browser;
    },
    async close() {
      const dataSource = app.get<DataSource>(DATA_SOURCE);
      await app.close();
      if (dataSource.isInitialized) await dataSource.destroy();
      if (!options.database) await database.dispose();
    },
  };
}
