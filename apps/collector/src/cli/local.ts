import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { formatFieldErrors } from '#rounds/plugins';
import type { CollectorConfig } from '../config/env.js';
import { CollectorModule } from '../collector.module.js';
import { DATA_SOURCE, SQLITE_FILE_NAME } from '../storage/data-source.js';
import { keyCreatedNotice, secretBoxOf } from '../storage/secret-box.js';
import { ValidationFailedError } from '../shared/errors.js';

export type { CommandArgs as AdminArgs } from './operator.js';

/**
 * Refuses to open a data folder that has no database yet: a local command run with the wrong
 * ROUNDS_DATA_DIR (or from another folder: the default is `data` under the current one) would
 * otherwise create an empty database and key there, and act on nothing, silently. Only `start`
 * and `restore` make one. PostgreSQL is named by its URL and is not checked here.
 */
export function requireDatabase(config: CollectorConfig): void {
  if (config.databaseUrl) return;
  const file = join(config.dataDir, SQLITE_FILE_NAME);
  if (existsSync(file)) return;
  throw new Error(
    `no database at ${file} — is ROUNDS_DATA_DIR the running collector's? Set it to the collector's data folder ` +
      '(e.g. ROUNDS_DATA_DIR=/var/lib/rounds/collector, or .quickstart/data for the quick start); `rounds-collector start` creates the database on its first start. Nothing was created.',
  );
}

/**
 * Runs a command that must work when nobody can sign in (users, tokens, the audit chain, backup,
 * the secret key) on the collector's own storage, through a Nest application context. Input
 * goes through the API's DTO schemas (parseDto), so field errors read as the API's, on one line.
 */
export async function withContext<T>(config: CollectorConfig, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  requireDatabase(config);
  const app = await NestFactory.createApplicationContext(CollectorModule.register({ config, serve: false }), { logger: ['fatal', 'error', 'warn'] });
  // A database without its key (moved without it): the key is made here, so say so.
  const key = secretBoxOf(app.get<DataSource>(DATA_SOURCE)).current;
  if (key.created) process.stderr.write(`${keyCreatedNotice(key)}\n`);
  try {
    return await fn(app);
  } catch (e) {
    if (e instanceof ValidationFailedError) throw new Error(`${e.message}: ${formatFieldErrors(e.errors)}`);
    throw e;
  } finally {
    await app.close();
    await app.get<DataSource>(DATA_SOURCE).destroy();
  }
}
