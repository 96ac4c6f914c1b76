import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ROUNDS_VERSION, RoundsLogger, untilStopped } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { createCollectorApp } from './app.js';
import { httpsOptionsFor, selfSignedFiles } from './tls.js';
import { cliCredentialsFile, writeCliCredentials } from './credentials.store.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { FIRST_TOKEN_NAME, IMPORTED_TOKEN_NAME } from '../auth/api-tokens.service.js';

/** Runs the collector until SIGTERM/SIGINT; on the way out it flushes pending result writes. */
export async function serve(config: CollectorConfig): Promise<void> {
  const log = new Logger('Collector');
  const logger = new RoundsLogger(config.logLevel);
  // Before the app exists, so through the collector's own logger (Nest's Logger would still print in its default format).
  const httpsOptions = await httpsOptionsFor(config, {
    log: (m: string) => logger.log(m, 'Collector'),
    warn: (m: string) => logger.warn(m, 'Collector'),
    error: (m: string) => logger.error(m, undefined, 'Collector'),
  });
  const { app, firstAdmin, tokens } = await createCollectorApp(config, { logger, ...(httpsOptions ? { httpsOptions } : {}) });
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
  writePidFile(config.dataDir);
  const address = app.getHttpServer().address() as { port: number };
  const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  const url = `${httpsOptions ? 'https' : 'http'}://${localHost(config.httpHost)}:${address.port}`;
  const credentials = cliCredentialsFile(config.dataDir);
  try {
    writeCliCredentials(config.dataDir, {
      url,
      ...(tokens.created ? { token: tokens.created, user: firstAdmin?.name ?? 'the first admin' } : {}),
      ...(config.tls && 'selfSigned' in config.tls ? { ca: selfSignedFiles(config.dataDir).certFile } : {}),
    });
  } catch (e) {
    // The CLI can still be given --url and --token: no reason to stop serving.
    log.warn(`could not write ${credentials} (${(e as Error).message}): commands on this machine need --url and --token (or ROUNDS_URL and ROUNDS_TOKEN)`);
  }
  if (firstAdmin) log.log(firstAdminNotice(firstAdmin));
  if (tokens.created) {
    log.log(
      `API token "${FIRST_TOKEN_NAME}" of ${firstAdmin?.name ?? 'the first admin'} (shown once; the database keeps only its hash, ` +
        `${credentials} (mode 0600) keeps it for \`rounds-collector\` commands on this machine — ` +
        `\`rounds-collector token add|rotate\` or Account → API tokens makes more): ${tokens.created}`,
    );
  }
  if (tokens.imported)
    log.log(`the API token from before users is now a token of the first admin ("${IMPORTED_TOKEN_NAME}"); its hash file was renamed ${tokens.imported}`);
  // Signal handlers first: whoever waits for "ready" may stop the collector at once.
  const stopped = untilStopped(log, async (signal) => {
    log.log(`${signal} received: stopping, flushing pending writes`);
    try {
      await app.close();
      await app.get<DataSource>(DATA_SOURCE).destroy();
    } catch (e) {
      log.error(`shutdown: ${(e as Error).message}`);
    } finally {
      removePidFile(config.dataDir);
    }
  });
  log.log(
    `rounds-collector ${ROUNDS_VERSION} ready: ${httpsOptions ? 'https' : 'http'}://${host}:${address.port}/ (data: ${config.databaseUrl ? 'PostgreSQL' : config.dataDir})`,
  );
  await stopped;
  log.log('stopped');
}

/**
 * The host a command on this machine reaches the collector at: the listen address, or loopback
 * for a wildcard (which a self-signed certificate names too).
 */
function localHost(httpHost: string): string {
  if (httpHost === '0.0.0.0' || httpHost === '') return '127.0.0.1';
  if (httpHost === '::') return '[::1]';
  return httpHost.includes(':') ? `[${httpHost}]` : httpHost;
}

/** The one time the first admin's password is readable: only its scrypt hash is stored. */
export function firstAdminNotice({ name, password }: { name: string; password: string }): string {
  return (
    `first start: created user "${name}" (role admin) with the password ${password} — shown once; it must be changed at the first sign-in. ` +
    `Lost it? \`rounds-collector user reset-password ${name}\` prints a new one.`
  );
}
