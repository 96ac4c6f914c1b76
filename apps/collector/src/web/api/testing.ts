import { Global, Module, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { systemClock } from '#rounds/common';
import { PluginRegistry, type FieldError } from '#rounds/plugins';
import { readCollectorConfig, type CollectorConfig } from '../../config/env.js';
import { DATA_SOURCE } from '../../storage/data-source.js';
import { API_AUTH_LIMITS, CLOCK, COLLECTOR_CONFIG, PLUGIN_REGISTRY } from '../../shared/tokens.js';
import { AccessGuard } from '../../auth/access.guard.js';
import { ApiRateLimitGuard, ApiRateLimitModule } from './rate-limit.js';
import { ApiTokensService } from '../../auth/api-tokens.service.js';
import { AuthModule } from '../../auth/auth.module.js';
import { AuditRepository } from '../../audit/audit.repository.js';
import { UsersService } from '../../users/users.service.js';
import { CurrentState } from '../../state/current-state.js';
import { StateRepository } from '../../state/state.repository.js';

/** The token the test apps accept: the first admin's (as ROUNDS_API_TOKEN makes it). */
export const TEST_API_TOKEN = 'test-api-token-0123456789abcdef';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /**
   * The parsed body (undefined when empty) as the shape the spec names in `call<T>()`. Not
   * checked: the spec's assertions are what check it.
   */
  json: T;
}

/** The body of a refused request (4xx): the error filter's, the DTO pipes' and the token guard's. */
export interface ApiErrorBody {
  statusCode: number;
  error?: string;
  message: string;
  errors?: FieldError[];
}

export interface ApiTestApp {
  app: INestApplication;
  /** One HTTP call; `token: null` sends none; `authorization` is sent as the whole header instead. */
  call<T = unknown>(method: string, path: string, body?: unknown, token?: string | null, authorization?: string): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/**
 * A real Nest HTTP app on a loopback port with the given controllers and providers behind the
 * collector's one access guard (sessions and API tokens, AuthModule), the database, the read
 * model, a system clock and the config (a provider in `providers` replaces one of these) — what
 * controller specs need to test the HTTP contract (auth, status codes, field errors). The first
 * admin owns TEST_API_TOKEN.
 */
export async function startApiTestApp(options: {
  controllers: Type<unknown>[];
  providers: Provider[];
  dataSource: DataSource;
  config?: Partial<CollectorConfig>;
  /** false: no read model (a spec of the HTTP plumbing alone). */
  readModel?: boolean;
}): Promise<ApiTestApp> {
  // What the collector's CoreModule and StorageModule give every module, here for AuthModule and UsersModule too.
  const core: Provider[] = [
    { provide: DATA_SOURCE, useValue: options.dataSource },
    { provide: CLOCK, useValue: systemClock },
    // Every documented default, then what the spec sets.
    // No API rate limit unless the spec sets one: controller specs (the fuzz spec above all) call in bursts.
    { provide: COLLECTOR_CONFIG, useValue: { ...readCollectorConfig({}), apiToken: TEST_API_TOKEN, apiRateLimit: 0, ...options.config } },
    // Controller specs refuse many calls from one address on purpose; api-tokens.service.spec tests the throttle.
    { provide: API_AUTH_LIMITS, useValue: { freeFailures: Number.MAX_SAFE_INTEGER } },
  ];
  @Global()
  @Module({ providers: core, exports: core.map((p) => (p as { provide: unknown }).provide as string) })
  class TestCoreModule {}
  @Module({
    imports: [TestCoreModule, AuthModule, ApiRateLimitModule],
    controllers: options.controllers,
    providers: [
      { provide: APP_GUARD, useExisting: AccessGuard },
      { provide: APP_GUARD, useExisting: ApiRateLimitGuard },
      AuditRepository,
      // The read model, loaded at start as in the collector: services read and refresh it.
      ...(options.readModel === false ? [] : [StateRepository, CurrentState, { provide: PLUGIN_REGISTRY, useValue: PluginRegistry.withBuiltins() }]),
      ...options.providers,
    ],
  })
  class TestModule {}
  // abortOnError: false — a provider the spec forgot fails the spec with Nest's message instead of exiting silently.
  const app = await NestFactory.create(TestModule, { logger: false, abortOnError: false });
  await app.get(UsersService).ensureFirstAdmin();
  await app.get(ApiTokensService).ensure();
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    async call<T = unknown>(
      method: string,
      path: string,
      body?: unknown,
      token: string | null = TEST_API_TOKEN,
      authorization = token ? `Bearer ${token}` : undefined,
    ): Promise<ApiResponse<T>> {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(authorization ? { authorization } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const json = text && /json/.test(res.headers.get('content-type') ?? '') ? (JSON.parse(text) as unknown) : undefined;
      return { status: res.status, headers: res.headers, text, json: json as T };
    },
    close: () => app.close(),
  };
}
