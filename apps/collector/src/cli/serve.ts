import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DataSource } from 'typeorm';
import { ROUNDS_VERSION, RoundsLogger, untilStopped } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { CollectorModule } from '../collector.module.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { ApiTokenService } from '../auth/api-token.service.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { UsersService } from '../users/users.service.js';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Runs the collector until SIGTERM/SIGINT; on the way out it flushes pending result writes. */
export async function serve(config: CollectorConfig): Promise<void> {
  const log = new Logger('Collector');
  const app = await NestFactory.create<NestExpressApplication>(CollectorModule.register({ config, serve: true }), {
    logger: new RoundsLogger(config.logLevel),
  });
  app.disable('x-powered-by');
  app.use((_req: unknown, res: { setHeader(k: string, v: string): void }, next: () => void) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    next();
  });
  // Before listen(): the read model loads and the poller starts only after this.
  let firstAdmin: { name: string; password: string } | null;
  try {
    await app.get(SecretsService).sealStoredSecrets();
    firstAdmin = await app.get(UsersService).ensureFirstAdmin();
  } catch (e) {
    // Nothing has started yet (app.close() would stop services that never ran).
    await app.get<DataSource>(DATA_SOURCE).destroy();
    throw e;
  }
  const { created } = app.get(ApiTokenService).ensure();
  try {
    await app.listen(config.httpPort, config.httpHost);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    await app.close();
    if (err.code === 'EADDRINUSE') {
      throw new Error(`port ${config.httpPort} on ${config.httpHost} is already in use — set ROUNDS_HTTP_PORT to a free port (or stop the other process)`);
    }
    throw new Error(`cannot listen on ${config.httpHost}:${config.httpPort}: ${err.message} — check ROUNDS_HTTP_HOST / ROUNDS_HTTP_PORT`);
  }
  const address = app.getHttpServer().address() as { port: number };
  const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  if (created) {
    log.log(`API token (shown once; only its hash is kept — \`rounds-collector api-token rotate\` makes a new one): ${created}`);
  }
  if (firstAdmin) log.log(firstAdminNotice(firstAdmin));
  // Signal handlers first: whoever waits for "ready" may stop the collector at once.
  const stopped = untilStopped(log, async (signal) => {
    log.log(`${signal} received: stopping, flushing pending writes`);
    try {
      await app.close();
      await app.get<DataSource>(DATA_SOURCE).destroy();
    } catch (e) {
      log.error(`shutdown: ${(e as Error).message}`);
    }
  });
  log.log(`rounds-collector ${ROUNDS_VERSION} ready: http://${host}:${address.port}/ (data: ${config.databaseUrl ? 'PostgreSQL' : config.dataDir})`);
  await stopped;
  log.log('stopped');
}

/** The one time the first admin's password is readable: only its scrypt hash is stored. */
export function firstAdminNotice({ name, password }: { name: string; password: string }): string {
  return (
    `first start: created user "${name}" (role admin) with the password ${password} — shown once; it must be changed at the first sign-in. ` +
    `Lost it? \`rounds-collector user reset-password ${name}\` prints a new one.`
  );
}
