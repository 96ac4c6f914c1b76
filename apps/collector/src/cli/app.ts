import { NestFactory } from '@nestjs/core';
import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DataSource } from 'typeorm';
import type { Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { CollectorModule } from '../collector.module.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { ApiTokensService } from '../auth/api-tokens.service.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { UsersService } from '../users/users.service.js';
import { securityHeaders } from '../web/security-headers.js';
import { apiJsonBodies, bodyErrors } from '../web/body-errors.js';
import { ApiOrDefaultErrorFilter } from '../web/api/error.filter.js';

/** A body larger than this is refused (413) before any handler: no form or API call needs more. */
const BODY_LIMIT = '256kb';

export interface CollectorApp {
  app: NestExpressApplication;
  /** Made on this start (no users yet): the first admin's password, shown once. */
  firstAdmin: { name: string; password: string } | null;
  /** `created`: the first admin's API token made on this start, to show once; `imported`: where the pre-users token's hash file went. */
  tokens: { created?: string; imported?: string };
}

/**
 * The serving collector, built but not listening: its HTTP stack (security headers, body limits),
 * stored secrets sealed, the first admin and API token made on a first start. serve() listens
 * with it; specs of the whole HTTP surface build the same app (with their own clock).
 */
export async function createCollectorApp(
  config: CollectorConfig,
  options: { logger: LoggerService | false; clock?: Clock; httpsOptions?: { cert: Buffer | string; key: Buffer | string } },
): Promise<CollectorApp> {
  const app = await NestFactory.create<NestExpressApplication>(CollectorModule.register({ config, serve: true, clock: options.clock }), {
    logger: options.logger,
    bodyParser: false,
    ...(options.httpsOptions ? { httpsOptions: options.httpsOptions } : {}),
  });
  app.disable('x-powered-by');
  app.use(securityHeaders());
  app.use(apiJsonBodies());
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false, parameterLimit: 100 });
  app.use(bodyErrors());
  app.useGlobalFilters(new ApiOrDefaultErrorFilter(app.getHttpAdapter()));
  // Before listen(): the read model loads and the poller starts only after this.
  try {
    await app.get(SecretsService).sealStoredSecrets();
    const firstAdmin = await app.get(UsersService).ensureFirstAdmin();
    const tokens = await app.get(ApiTokensService).ensure();
    return { app, firstAdmin, tokens };
  } catch (e) {
    // Nothing has started yet (app.close() would stop services that never ran).
    await app.get<DataSource>(DATA_SOURCE).destroy();
    throw e;
  }
}
