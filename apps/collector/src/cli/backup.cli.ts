import type { DataSource } from 'typeorm';
import type { CollectorConfig } from '../config/env.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { installBackup, keyIdOfBytes, unpackBackup, writeBackup } from '../storage/backup.store.js';
import { secretBoxOf } from '../storage/secret-box.js';
import { secretKeySourceOf } from '../storage/secret-key.store.js';
import { withContext, type AdminArgs } from './local.js';
import { runningCollector } from './pid-file.js';

/**
 * `backup <file>`: a consistent copy of the embedded database with its secret key, taken while
 * the collector runs. The file holds the key: keep it as safe as the data folder.
 */
export async function backupCommand(config: CollectorConfig, { positionals }: AdminArgs, print: (s: string) => void): Promise<number> {
  const target = positionals[0];
  if (!target) throw new Error('usage: rounds-collector backup <file>   (e.g. /var/backups/rounds-$(date +%F).tar.gz)');
  return withContext(config, async (app) => {
    const dataSource = app.get<DataSource>(DATA_SOURCE);
    const key = secretBoxOf(dataSource).current;
    const manifest = await writeBackup(dataSource, { source: secretKeySourceOf(config), id: key.id }, target, (percent) =>
      process.stderr.write(`backing up: ${percent}%\n`),
    );
    print(`wrote ${target} (database ${(manifest.databaseBytes / 1024 / 1024).toFixed(1)} MiB, integrity checked, key ${manifest.keyId})`);
    print(
      manifest.keyFromEnvironment
        ? 'the secret key comes from ROUNDS_SECRET_KEY and is not in the file: keep that key with the backup'
        : 'the file holds the secret key (mode 0600): keep it as safe as the data folder',
    );
    return 0;
  });
}

/**
 * `restore <file>`: puts a backup in place of the embedded database, with the collector stopped;
 * what was there is kept aside. Everything is checked before anything is moved.
 */
export async function restoreCommand(config: CollectorConfig, { positionals }: AdminArgs, print: (s: string) => void): Promise<number> {
  const file = positionals[0];
  if (!file) throw new Error('usage: rounds-collector restore <file>   (the collector stopped)');
  if (config.databaseUrl)
    throw new Error(
      'the database is PostgreSQL (ROUNDS_DATABASE_URL): restore it with pg_restore — `rounds-collector restore` is for the embedded SQLite database',
    );
  const pid = runningCollector(config.dataDir);
  if (pid !== null) throw new Error(`a collector (pid ${pid}) is serving from ${config.dataDir}: stop it first, then restore — nothing was changed`);
  const backup = await unpackBackup(file, config.dataDir);
  const source = secretKeySourceOf(config);
  if ('key' in source) {
    if (keyIdOfBytes(source.key) !== backup.manifest.keyId) {
      throw new Error(`ROUNDS_SECRET_KEY is not the key this backup was sealed with (${backup.manifest.keyId}): set it to that key — nothing was changed`);
    }
  } else if (!backup.hasKey) {
    throw new Error(
      `this backup was made with ROUNDS_SECRET_KEY and holds no key: set ROUNDS_SECRET_KEY to key ${backup.manifest.keyId} and restore again — nothing was changed`,
    );
  }
  const { keptIn } = installBackup(backup, config.dataDir, 'file' in source ? source.file : null);
  print(
    `restored the backup of ${backup.manifest.createdAt} (collector ${backup.manifest.collectorVersion}, key ${backup.manifest.keyId}) into ${config.dataDir}`,
  );
  if (keptIn) print(`what was there before is kept in ${keptIn} (delete it once the collector runs well)`);
  print('start the collector: `rounds-collector start`');
  return 0;
}
