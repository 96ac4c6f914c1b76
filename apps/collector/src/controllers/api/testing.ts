import { Module, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { systemClock } from '#rounds/common';
import type { CollectorConfig } from '../../config/env.js';
import { DATA_SOURCE } from '../../repositories/data-source.js';
import { ApiTokenService } from '../../services/api-token.service.js';
import { CLOCK, COLLECTOR_CONFIG } from '../../services/tokens.js';
import { ApiTokenGuard } from './api-token.guard.js';

/** The token the test apps accept. */
export const TEST_API_TOKEN = 'test-api-token-0123456789abcdef';

export interface ApiResponse {
  status: number;
  text: string;
  // Specs look into arbitrary JSON bodies; `any` keeps their assertions short.
  json: any;
}

export interface ApiTestApp {
  app: INestApplication;
  /** One HTTP call; `token: null` sends none. */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<ApiResponse>;
  close(): Promise<void>;
}

/**
 * A real Nest HTTP app on a loopback port with the given controllers and providers, the
 * API token guard, the database, a system clock and the config — what controller specs
 * need to test the HTTP contract (auth, status codes, field errors).
 */
export async function startApiTestApp(options: {
  controllers: Type<unknown>[];
  providers: Provider[];
  dataSource: DataSource;
  config?: Partial<CollectorConfig>;
}): Promise<ApiTestApp> {
  @Module({
    controllers: options.controllers,
    providers: [
      { provide: DATA_SOURCE, useValue: options.dataSource },
      { provide: CLOCK, useValue: systemClock },
      { provide: COLLECTOR_CONFIG, useValue: (options.config ?? {}) as CollectorConfig },
      { provide: ApiTokenService, useValue: { verify: (t: string | undefined) => t === TEST_API_TOKEN } },
      ApiTokenGuard,
      ...options.providers,
    ],
  })
  class TestModule {}
  const app = await NestFactory.create(TestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    async call(method, path, body, token = TEST_API_TOKEN) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
    },
    close: () => app.close(),
  };
}
