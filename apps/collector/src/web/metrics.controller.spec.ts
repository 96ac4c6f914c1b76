import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CollectorConfig } from '../config/env.js';
import type { ExpositionFormat } from '../metrics/exposition.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { MetricsController } from './metrics.controller.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const USER = 'prometheus';
const PASSWORD = 'scrape-password-1';

const fakeMetrics = { scrapeBytes: async (format: ExpositionFormat) => Buffer.from(format === 'openmetrics' ? 'rounds_x 1\n# EOF\n' : 'rounds_x 1\n') };

async function serve(metricsAuth: CollectorConfig['metricsAuth']): Promise<{ app: INestApplication; url: string }> {
  @Module({
    controllers: [MetricsController],
    providers: [
      { provide: MetricsService, useValue: fakeMetrics },
      { provide: COLLECTOR_CONFIG, useValue: { metricsAuth } },
    ],
  })
  class TestModule {}
  const app = await NestFactory.create(TestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}/metrics` };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('GET /metrics', () => {
  describe('without credentials configured', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    before(async () => (server = await serve({})));
    after(() => server.app.close());

    it('answers 200 in the text format 0.0.4 when no Accept header is sent', async () => {
      const res = await fetch(server.url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(await res.text(), 'rounds_x 1\n');
    });

    it('answers OpenMetrics when Prometheus asks for it first', async () => {
      const res = await fetch(server.url, {
        headers: {
          accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
        },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      assert.ok((await res.text()).endsWith('# EOF\n'));
    });

    it('keeps the text format when the client prefers it over OpenMetrics', async () => {
      const res = await fetch(server.url, { headers: { accept: 'text/plain;version=0.0.4,application/openmetrics-text;q=0.3' } });
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    });
  });

  describe('with a bearer token and basic auth configured', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    before(async () => (server = await serve({ token: TOKEN, basic: { user: USER, password: PASSWORD } })));
    after(() => server.app.close());

    it('refuses a scrape without credentials with 401, both challenges and a message naming the settings', async () => {
      const res = await fetch(server.url);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="rounds metrics", charset="UTF-8", Bearer realm="rounds metrics"');
      const body = await res.text();
      assert.match(body, /ROUNDS_METRICS_TOKEN/);
      assert.match(body, /ROUNDS_METRICS_USER\/ROUNDS_METRICS_PASSWORD/);
      assert.doesNotMatch(body, /rounds_x/);
    });

    it('accepts the bearer token', async () => {
      const res = await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'rounds_x 1\n');
    });

    it('accepts the basic-auth user and password', async () => {
      const res = await fetch(server.url, { headers: { authorization: basic(USER, PASSWORD) } });
      assert.equal(res.status, 200);
    });

    const wrong: [string, string][] = [
      ['a wrong bearer token', `Bearer ${TOKEN}x`],
      ['a wrong password', basic(USER, `${PASSWORD}x`)],
      ['a wrong user', basic('grafana', PASSWORD)],
      ['basic credentials without a colon', `Basic ${Buffer.from(USER + PASSWORD).toString('base64')}`],
      ['the token sent as a basic password', basic(USER, TOKEN)],
      ['an unknown scheme', `Digest ${TOKEN}`],
    ];
    for (const [what, header] of wrong) {
      it(`refuses ${what} with 401`, async () => {
        const res = await fetch(server.url, { headers: { authorization: header } });
        assert.equal(res.status, 401);
        assert.match(await res.text(), /refused these credentials/);
      });
    }
  });

  describe('with only a bearer token configured', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    before(async () => (server = await serve({ token: TOKEN })));
    after(() => server.app.close());

    it('offers only the Bearer challenge and refuses basic auth', async () => {
      const res = await fetch(server.url, { headers: { authorization: basic(USER, PASSWORD) } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="rounds metrics"');
    });
  });
});
