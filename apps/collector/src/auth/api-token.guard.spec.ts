import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, Get, UseGuards } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ManualClock } from '#rounds/common';
import { API_AUTH_LIMITS, CLOCK } from '../shared/tokens.js';
import { ApiTokenGuard } from './api-token.guard.js';
import { startApiTestApp, TEST_API_TOKEN, type ApiErrorBody, type ApiTestApp } from '../web/api/testing.js';

@Controller('api/ping')
@UseGuards(ApiTokenGuard)
class PingController {
  @Get()
  ping(): { ok: true } {
    return { ok: true };
  }
}

describe('ApiTokenGuard', () => {
  const clock = new ManualClock(Date.now());
  let api: ApiTestApp;

  before(async () => {
    api = await startApiTestApp({
      controllers: [PingController],
      providers: [
        { provide: CLOCK, useValue: clock },
        { provide: API_AUTH_LIMITS, useValue: {} },
      ],
      dataSource: {} as DataSource,
      readModel: false,
    });
  });
  after(() => api.close());

  it('lets the right token in with the Bearer scheme in any case (RFC 7235)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      assert.equal((await api.call('GET', '/api/ping', undefined, null, `${scheme} ${TEST_API_TOKEN}`)).status, 200, scheme);
    }
  });

  it('answers 401 saying how to send the token when there is none, and that it is wrong when it is', async () => {
    const none = await api.call<ApiErrorBody>('GET', '/api/ping', undefined, null);
    assert.equal(none.status, 401);
    assert.match(none.json.message, /^send the API token as "Authorization: Bearer <token>"/);
    const wrong = await api.call<ApiErrorBody>('GET', '/api/ping', undefined, 'not-the-token');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.message, 'the API token is wrong — `rounds-collector api-token rotate` makes a new one');
  });

  it('after repeated wrong tokens answers 429 with Retry-After, even to the right token, until the penalty ends', async () => {
    await clock.advance(3_600_000); // the failures of the test above are forgotten
    for (let i = 0; i < 6; i++) assert.equal((await api.call('GET', '/api/ping', undefined, 'guess')).status, 401, `guess ${i + 1}`);
    const throttled = await api.call<ApiErrorBody>('GET', '/api/ping');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '1');
    assert.match(throttled.json.message, /^too many wrong API tokens from 127\.0\.0\.1: refused without checking for 1 s more — then send the current token/);
    await clock.advance(1_000);
    assert.equal((await api.call('GET', '/api/ping')).status, 200);
    // The success forgave the failures: the next wrong token is a plain 401 again.
    assert.equal((await api.call('GET', '/api/ping', undefined, 'guess')).status, 401);
  });
});
