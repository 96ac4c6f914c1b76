import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { systemClock } from '#rounds/common';
import { freePort } from '../../../../test/peers/process.js';
import { readCollectorConfig, type CollectorConfig } from '../config/env.js';
import { AgentClientPool } from '../inventory/agent-client.pool.js';
import { enrolAgentDto } from '../inventory/agents.dto.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { AgentsService } from '../inventory/agents.service.js';
import { createChannelDto } from '../notifications/channels.dto.js';
import { ChannelsRepository } from '../notifications/channels.repository.js';
import { PluginRegistry } from '#rounds/plugins';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { DependenciesService } from '../inventory/dependencies.service.js';
import { ChannelsService } from '../notifications/channels.service.js';
import { Notifiers } from '../notifications/notifiers.js';
import { AlertmanagerNotifier } from '../notifications/notifiers/alertmanager.notifier.js';
import { SmtpNotifier } from '../notifications/notifiers/smtp.notifier.js';
import { TelegramNotifier } from '../notifications/notifiers/telegram.notifier.js';
import { WebhookNotifier } from '../notifications/notifiers/webhook.notifier.js';
import { OutboxRepository } from '../notifications/outbox.repository.js';
import { parseDto } from '../shared/dto.js';
import { StateRepository } from '../state/state.repository.js';
import { createDataSource, SQLITE_FILE_NAME } from '../storage/data-source.js';
import { SecretBox, SecretKeyMismatchError, secretBoxOf, secretKey } from '../storage/secret-box.js';
import { readKeyFile, SECRET_KEY_FILE_NAME, stageNewKey, writeKeyFile } from '../storage/secret-key.store.js';
import { openTestDatabase, postgresOnly, sqliteOnly } from '../storage/testing.js';
import { KEY_CHECK_LABEL, SecretsRepository } from './secrets.repository.js';
import { SecretsService } from './secrets.service.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { UserEntity } from '../users/user.entity.js';
import { SessionEntity } from '../auth/session.entity.js';
import { SessionsRepository } from '../auth/sessions.repository.js';
import { UsersRepository } from '../users/users.repository.js';
import { EnrolmentsRepository } from '../enrolment/enrolments.repository.js';
import { makeSiteKey } from '#rounds/common';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

/** Random per run: a match in the file can only be the secret itself. */
const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/** The database file and its WAL, as bytes: what a copy of the data dir without the key holds. */
function storedBytes(dataDir: string): Buffer {
  const files = [SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}-wal`].map((f) => join(dataDir, f)).filter((f) => existsSync(f));
  return Buffer.concat(files.map((f) => readFileSync(f)));
}

function assertAbsent(bytes: Buffer, values: readonly string[]): void {
  for (const v of values) {
    for (const form of new Set([v, JSON.stringify(v).slice(1, -1)])) {
      assert.equal(bytes.indexOf(Buffer.from(form, 'utf8')), -1, `found the secret ${JSON.stringify(v)} in the stored bytes`);
    }
  }
}

const configFor = (dataDir: string, env: Record<string, string> = {}): CollectorConfig =>
  readCollectorConfig({ ROUNDS_DATA_DIR: dataDir, ROUNDS_POLL_TIMEOUT_MS: '1000', ...env });

const notifiers = () => new Notifiers(new SmtpNotifier(), new TelegramNotifier(), new WebhookNotifier(), new AlertmanagerNotifier());

function services(dataSource: DataSource, config: CollectorConfig) {
  return {
    agents: new AgentsService(
      new AgentsRepository(dataSource),
      new AgentClientPool(),
      new DependenciesService(new ChecksRepository(dataSource), new AgentsRepository(dataSource)),
      config,
    ),
    channels: new ChannelsService(new ChannelsRepository(dataSource), new OutboxRepository(dataSource), notifiers(), systemClock, config),
    secrets: new SecretsService(new SecretsRepository(dataSource), config),
  };
}

/** One agent and channels of every type with every kind of secret, through the repositories. */
async function storeSecrets(dataSource: DataSource): Promise<string[]> {
  const values = {
    token: secret('tok'),
    smtp: secret('smtp'),
    bot: `123456:${secret('bot')}`,
    hook: `https://hooks.example/services/${secret('hook')}`,
    hmac: secret('hmac'),
    header: `Bearer ${secret('hdr')}`,
    am: secret('am'),
    orthanc: secret('orthanc'),
    totp: randomBytes(20).toString('hex').toUpperCase(),
    siteKey: makeSiteKey(),
  };
  await storeTwoFactorUser(dataSource, values.totp);
  await new EnrolmentsRepository(dataSource).replaceSiteKey(values.siteKey, 'spec', 1, () => ({
    context: SPEC_AUDIT,
    action: 'site-key.set',
    target: { kind: 'site-key', id: null, name: null },
    before: null,
    after: null,
  }));
  await new AgentsRepository(dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: values.token, fingerprint: 'ab'.repeat(32) });
  const channels = new ChannelsRepository(dataSource);
  await channels.create({
    name: 'mail',
    type: 'smtp',
    config: { host: 'mail.example', username: 'rounds', password: values.smtp, from: 'r@example.org', to: ['it@example.org'] },
  });
  await channels.create({ name: 'tg', type: 'telegram', config: { botToken: values.bot, chatId: 42 } });
  await channels.create({ name: 'hook', type: 'webhook', config: { url: values.hook, hmacSecret: values.hmac, headers: { Authorization: values.header } } });
  await channels.create({ name: 'am', type: 'alertmanager', config: { url: 'http://am.example:9093', username: 'rounds', password: values.am } });
  const agent = (await new AgentsRepository(dataSource).findByName('pacs-01'))!;
  await new ChecksRepository(dataSource).create({
    agentId: agent.id,
    name: 'Orthanc REST',
    plugin: 'orthanc',
    config: { url: 'http://orthanc.example:8042', username: 'rounds', password: values.orthanc },
    secretSchema: PluginRegistry.withBuiltins().get('orthanc')!.jsonSchema,
    intervalMs: 60_000,
    timeoutMs: 10_000,
  });
  return Object.values(values);
}

/** A user with two-factor sign-in set up: their TOTP secret is sealed like the others. */
async function storeTwoFactorUser(dataSource: DataSource, totpSecret: string): Promise<void> {
  const users = new UsersRepository(dataSource);
  const user = Object.assign(new UserEntity(), {
    id: 'u1',
    name: 'radiology-it',
    role: 'operator',
    passwordHash: 'scrypt$x',
    mustChangePassword: false,
    disabled: false,
    totpSecret: null,
    totpLastStep: null,
    backupCodes: null,
    failedSignIns: 0,
    lockedUntil: null,
    lastSignInAt: null,
    createdAt: 1,
    updatedAt: 1,
  });
  const audit = (u: UserEntity) => ({
    context: SPEC_AUDIT,
    action: 'user.add' as const,
    target: { kind: 'user' as const, id: u.id, name: u.name },
    before: null,
    after: null,
  });
  await users.create(user, audit);
  assert.ok(await users.enableTwoFactor(user, { secret: totpSecret, step: 1, backupCodes: '[]' }, 2, audit));
}

async function rawTokens(dataSource: DataSource): Promise<string[]> {
  return (await dataSource.query<{ token: string }[]>('SELECT token FROM agents ORDER BY name')).map((r) => r.token);
}

describe('secrets at rest', () => {
  let db: Db;
  const extra: DataSource[] = [];
  const dirs: string[] = [];

  beforeEach(async () => {
    db = await openTestDatabase();
  });
  afterEach(async () => {
    for (const ds of extra.splice(0)) if (ds.isInitialized) await ds.destroy();
    await db.close();
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(
    'enrolling an agent and creating channels through the services leaves none of their secrets in the SQLite file or its WAL, and a copy without the key opens none',
    { skip: sqliteOnly('reads the SQLite file and its WAL byte by byte') },
    async () => {
      const config = configFor(db.dataDir);
      const { agents, channels } = services(db.dataSource, config);
      const token = randomBytes(32).toString('base64url');
      // Nothing listens there: the agent is registered with a warning, and its token stored.
      const enrolled = await agents.enrol(
        parseDto(enrolAgentDto, { name: 'pacs-01', enrol: `rounds://${token}@127.0.0.1:${await freePort()}?fp=${'ab'.repeat(32)}` }, 'invalid agent'),
        SPEC_AUDIT,
      );
      assert.match(enrolled.warning ?? '', /registered anyway/);
      const s = {
        smtp: secret('smtp'),
        bot: `123456:${secret('bot')}`,
        hook: `https://hooks.slack.example/services/${secret('hook')}`,
        hmac: secret('hmac'),
        header: `Bearer ${secret('hdr')}`,
        am: secret('am'),
      };
      const create = (dto: unknown) => channels.create(parseDto(createChannelDto, dto, 'invalid channel'), SPEC_AUDIT);
      await create({
        name: 'mail',
        type: 'smtp',
        config: { host: 'mail.example', username: 'rounds', password: s.smtp, from: 'r@example.org', to: ['it@example.org'] },
      });
      await create({ name: 'tg', type: 'telegram', config: { botToken: s.bot, chatId: '@pacs_alerts' } });
      await create({ name: 'hook', type: 'webhook', config: { url: s.hook, hmacSecret: s.hmac, headers: { Authorization: s.header } } });
      await create({ name: 'am', type: 'alertmanager', config: { url: 'http://am.example:9093', username: 'rounds', password: s.am } });
      const all = [token, ...Object.values(s)];

      // While the collector runs: the database file and the WAL it is writing.
      assert.ok(existsSync(join(db.dataDir, `${SQLITE_FILE_NAME}-wal`)));
      assertAbsent(storedBytes(db.dataDir), all);
      const keyId = readKeyFile(join(db.dataDir, SECRET_KEY_FILE_NAME)).id;
      assert.match((await rawTokens(db.dataSource))[0]!, new RegExp(`^enc:v1:${keyId}:`));
      const stored = JSON.parse(
        (await db.dataSource.query<{ config_json: string }[]>(`SELECT config_json FROM notification_channels WHERE name = 'hook'`))[0]!.config_json,
      ) as { signatureHeader?: string; url: string; hmacSecret: string; headers: { Authorization: string } };
      assert.equal(stored.signatureHeader, undefined, 'stored as sent, without defaults');
      for (const v of [stored.url, stored.hmacSecret, stored.headers.Authorization]) assert.match(v, /^enc:v1:/);

      // The rest of the collector sees plaintext.
      assert.equal((await agents.get('pacs-01')).token, token);
      assert.equal((await new StateRepository(db.dataSource).loadAll()).agents[0]!.token, token);
      assert.deepEqual(JSON.parse((await channels.get('hook')).configJson), { url: s.hook, hmacSecret: s.hmac, headers: { Authorization: s.header } });
      assert.equal((await channels.getView('hook')).config && JSON.stringify((await channels.getView('hook')).config).includes(s.hook), false);

      // A copy of the data dir without secret.key (a stolen backup): no secret in it, and a
      // collector started on it gets a new key that opens nothing.
      const copy = mkdtempSync(join(tmpdir(), 'rounds-stolen-'));
      dirs.push(copy);
      for (const f of readdirSync(db.dataDir).filter((f) => f.startsWith(SQLITE_FILE_NAME))) copyFileSync(join(db.dataDir, f), join(copy, f));
      assertAbsent(storedBytes(copy), all);
      const stolen = await createDataSource({ dataDir: copy }).initialize();
      extra.push(stolen);
      await assert.rejects(new AgentsRepository(stolen).findByName('pacs-01'), (e: unknown) => e instanceof SecretKeyMismatchError && e.keyId === keyId);
      await assert.rejects(new ChannelsRepository(stolen).findAll(), SecretKeyMismatchError);

      // And after the collector stops (the WAL checkpointed into the file).
      await db.dataSource.destroy();
      assertAbsent(storedBytes(db.dataDir), all);
    },
  );

  it(
    'seals plaintext rows stored before encryption at start, all in one go and once, and their old bytes leave the file',
    { skip: sqliteOnly('reads the SQLite file byte by byte') },
    async () => {
      const token = secret('legacy-token');
      const password = secret('legacy-pass');
      const hook = `https://hooks.example/${secret('legacy-hook')}`;
      const totp = randomBytes(20).toString('hex').toUpperCase();
      const q = (sql: string, params: unknown[]) => db.query(sql, params);
      await q(
        `INSERT INTO users (id, name, role, password_hash, must_change_password, disabled, totp_secret, failed_sign_ins, created_at, updated_at) VALUES ('u1', 'legacy-2fa', 'admin', 'scrypt$x', false, false, ?, 0, 1, 1)`,
        [totp],
      );
      await q(
        `INSERT INTO agents (id, name, host, port, token, fingerprint, assignment_version, created_at, updated_at) VALUES ('a1', 'pacs-01', '127.0.0.1', 9, ?, 'ff', 'v1', 1, 1)`,
        [token],
      );
      await q(`INSERT INTO notification_channels (id, name, type, config_json, created_at, updated_at) VALUES ('c1', 'mail', 'smtp', ?, 1, 1)`, [
        JSON.stringify({ host: 'mail.example', username: 'rounds', password, from: 'r@example.org', to: ['it@example.org'] }),
      ]);
      await q(`INSERT INTO notification_channels (id, name, type, config_json, created_at, updated_at) VALUES ('c2', 'hook', 'webhook', ?, 1, 1)`, [
        JSON.stringify({ url: hook }),
      ]);
      await q(`INSERT INTO notification_channels (id, name, type, config_json, created_at, updated_at) VALUES ('c3', 'am', 'alertmanager', ?, 1, 1)`, [
        JSON.stringify({ url: 'http://am.example:9093' }),
      ]);
      const orthanc = secret('legacy-orthanc');
      await q(
        `INSERT INTO checks (id, agent_id, name, plugin, config_json, interval_ms, timeout_ms, enabled, created_at, updated_at) VALUES ('k1', 'a1', 'Orthanc REST', 'orthanc', ?, 60000, 10000, true, 1, 1)`,
        [JSON.stringify({ url: 'http://orthanc.example:8042', username: 'rounds', password: orthanc })],
      );
      const siteKey = makeSiteKey();
      await q(`INSERT INTO site_keys (id, key, created_at, created_by) VALUES ('s1', ?, 1, 'admin')`, [siteKey]);
      assert.ok(storedBytes(db.dataDir).includes(token), 'the legacy rows are in the file to begin with');

      const { secrets } = services(db.dataSource, configFor(db.dataDir));
      // The Alertmanager channel has no secret set: nothing to seal there.
      assert.deepEqual(await secrets.sealStoredSecrets(), { agents: 1, channels: 2, checks: 1, users: 1, enrolments: 1 });
      assert.deepEqual(await secrets.sealStoredSecrets(), { agents: 0, channels: 0, checks: 0, users: 0, enrolments: 0 });

      assertAbsent(storedBytes(db.dataDir), [token, password, hook, totp, orthanc, siteKey]);
      assert.equal((await new EnrolmentsRepository(db.dataSource).siteKey())?.key, siteKey);
      const checks = new ChecksRepository(db.dataSource);
      const row = (await checks.findById('k1'))!;
      assert.deepEqual(checks.openConfig(JSON.parse(row.configJson), row.name), { url: 'http://orthanc.example:8042', username: 'rounds', password: orthanc });
      const users = new UsersRepository(db.dataSource);
      assert.equal(users.totpSecretOf((await users.findByName('legacy-2fa'))!), totp);
      assert.match((await rawTokens(db.dataSource))[0]!, /^enc:v1:/);
      assert.equal((await new AgentsRepository(db.dataSource).findById('a1'))!.token, token);
      const channels = new ChannelsRepository(db.dataSource);
      assert.equal((JSON.parse((await channels.findByName('mail'))!.configJson) as { password: string }).password, password);
      assert.deepEqual(JSON.parse((await channels.findByName('am'))!.configJson), { url: 'http://am.example:9093' });
    },
  );

  it('refuses to start with another key, naming the key the values need, the key in use and what to do', async () => {
    await storeSecrets(db.dataSource);
    const file = join(db.dataDir, SECRET_KEY_FILE_NAME);
    const right = readKeyFile(file);
    await db.dataSource.destroy();
    writeKeyFile(file, randomBytes(32), false);
    const wrong = readKeyFile(file);
    const reopened = await createDataSource(db.config).initialize();
    extra.push(reopened);
    await assert.rejects(services(reopened, configFor(db.dataDir)).secrets.sealStoredSecrets(), {
      name: 'SecretKeyMismatchError',
      message:
        `the token of agent "pacs-01" was encrypted with secret key ${right.id}, but the key in use is ${wrong.id} (from ${file}) — ` +
        'put back the key this database was encrypted with (the secret.key saved with its backup, or the ROUNDS_SECRET_KEY it ran with); ' +
        'if that key is lost, the agents must be enrolled again and the channel secrets entered again',
    });
  });

  it('collectors on one database that holds no secret yet: one with another key stops at start, naming the key check and both keys', async () => {
    // The first start writes the key check: nothing else is sealed yet.
    assert.deepEqual(await services(db.dataSource, configFor(db.dataDir)).secrets.sealStoredSecrets(), {
      agents: 0,
      channels: 0,
      checks: 0,
      users: 0,
      enrolments: 0,
    });
    const right = secretBoxOf(db.dataSource).current;
    const start = async (key: Buffer) => {
      const ds = await createDataSource({ ...db.config, secretKey: { key } }).initialize();
      extra.push(ds);
      return services(ds, configFor(db.dataDir)).secrets.sealStoredSecrets();
    };
    const other = randomBytes(32);
    const wrong = secretKey(other, 'x');
    await assert.rejects(start(other), (e: unknown) => {
      assert.ok(e instanceof SecretKeyMismatchError, String(e));
      assert.equal(
        e.message.replace(/\(from [^)]*\)/, '(from …)'),
        `${KEY_CHECK_LABEL} was encrypted with secret key ${right.id}, but the key in use is ${wrong.id} (from …) — ` +
          'put back the key this database was encrypted with (the secret.key saved with its backup, or the ROUNDS_SECRET_KEY it ran with); ' +
          'if that key is lost, the agents must be enrolled again and the channel secrets entered again',
      );
      return true;
    });
    // The first collector's key starts another collector, and the refused one changed nothing.
    assert.deepEqual(await start(right.bytes), { agents: 0, channels: 0, checks: 0, users: 0, enrolments: 0 });
    const [check] = await db.query<{ value: string }>('SELECT value FROM secret_key_check');
    assert.ok(check!.value.startsWith(`enc:v1:${right.id}:`), check!.value);
  });

  it(
    'two collectors with different keys starting at once on a new database: exactly one starts',
    { skip: postgresOnly('several collectors share a PostgreSQL database only') },
    async () => {
      await db.dataSource.destroy();
      const keys = [randomBytes(32), randomBytes(32)];
      const sources = await Promise.all(keys.map((key) => createDataSource({ ...db.config, secretKey: { key } }).initialize()));
      extra.push(...sources);
      const started = await Promise.allSettled(sources.map((ds) => services(ds, configFor(db.dataDir)).secrets.sealStoredSecrets()));
      assert.deepEqual(started.map((s) => s.status).sort(), ['fulfilled', 'rejected'], JSON.stringify(started));
      const refused = started.find((s) => s.status === 'rejected')!.reason as unknown;
      assert.ok(refused instanceof SecretKeyMismatchError, String(refused));
      const winner = secretKey(keys[started.findIndex((s) => s.status === 'fulfilled')]!, 'x');
      assert.equal(refused.keyId, winner.id, 'the refused one names the key the other wrote the check with');
    },
  );

  it('rotate-key re-encrypts every secret under a new key in one step, deletes the old key file, and the old key opens nothing any more', async () => {
    const values = await storeSecrets(db.dataSource);
    const file = join(db.dataDir, SECRET_KEY_FILE_NAME);
    const old = readKeyFile(file);
    const sealedBefore = await rawTokens(db.dataSource);
    // A two-factor enrolment under way: its secret waits, sealed, in the user's session for the first code.
    const pending = randomBytes(20).toString('hex').toUpperCase();
    await new SessionsRepository(db.dataSource).insert(
      Object.assign(new SessionEntity(), {
        id: 'ab'.repeat(32),
        userId: 'u1',
        stage: 'full',
        csrfToken: 'cd'.repeat(32),
        createdAt: 1,
        lastSeenAt: 1,
        expiresAt: Date.now() + 3_600_000,
        address: null,
        userAgent: null,
        pendingTotpSecret: secretBoxOf(db.dataSource).seal(pending),
      }),
    );

    const lines = await services(db.dataSource, configFor(db.dataDir)).secrets.rotateKey(new Date('2026-12-01T10:20:30.000Z'));
    const next = readKeyFile(file);
    assert.notEqual(next.id, old.id);
    assert.deepEqual(lines, [
      `re-encrypted 1 agent token, 4 notification channels, 1 check config, 2 user's two-factor secrets and 1 site-key enrolment secret from key ${old.id} to key ${next.id}`,
      `the new key is in ${file} (0600); the old key was kept as ${file}.old-2026-12-01T10-20-30-000Z until now and is deleted`,
      'back the new key up with the database now: backups taken before this need the old key, which is gone',
    ]);
    assert.deepEqual(
      readdirSync(db.dataDir).filter((f) => f.startsWith(SECRET_KEY_FILE_NAME)),
      [SECRET_KEY_FILE_NAME],
    );

    // Every stored secret is under the new key; the old key opens none of them, nor what was there before.
    const bytes = storedBytes(db.dataDir);
    assert.equal(bytes.indexOf(`enc:v1:${old.id}:`), -1, 'a value under the old key is left in the file or the WAL');
    assertAbsent(bytes, values);
    const oldBox = new SecretBox(old);
    for (const t of await rawTokens(db.dataSource)) {
      assert.ok(t.startsWith(`enc:v1:${next.id}:`));
      assert.throws(() => oldBox.open(t, 'x'), SecretKeyMismatchError);
    }
    // Sealed anew, not relabelled: the old ciphertext is gone.
    assert.notEqual((await rawTokens(db.dataSource))[0], sealedBefore[0]);

    // Repositories of this process use the new key at once, and so does the next start.
    assert.equal((await new AgentsRepository(db.dataSource).findByName('pacs-01'))!.token, values[0]);
    await db.dataSource.destroy();
    const reopened = await createDataSource(db.config).initialize();
    extra.push(reopened);
    assert.equal((await new AgentsRepository(reopened).findByName('pacs-01'))!.token, values[0]);
    assert.equal((JSON.parse((await new ChannelsRepository(reopened).findByName('tg'))!.configJson) as { botToken: string }).botToken, values[2]);
    const [session] = await new SessionsRepository(reopened).listForUser('u1');
    assert.equal(secretBoxOf(reopened).open(session!.pendingTotpSecret!, 'the pending secret'), pending, 'the enrolment under way goes on with the new key');
    // The key check moved with them: the new key starts a collector, the old one is refused at the check.
    await services(reopened, configFor(db.dataDir)).secrets.sealStoredSecrets();
    const withOld = await createDataSource({ ...db.config, secretKey: { key: old.bytes } }).initialize();
    extra.push(withOld);
    await assert.rejects(services(withOld, configFor(db.dataDir)).secrets.sealStoredSecrets(), {
      name: 'SecretKeyMismatchError',
      message: new RegExp(`^this database's key check .* was encrypted with secret key ${next.id}, but the key in use is ${old.id}`),
    });
  });

  it('a rotation that committed but stopped before its key replaced secret.key is healed at the next start', async () => {
    const values = await storeSecrets(db.dataSource);
    const file = join(db.dataDir, SECRET_KEY_FILE_NAME);
    const current = readKeyFile(file);
    const staged = stageNewKey(file);
    // What rotate-key commits before it installs the key; then the process dies.
    await new SecretsRepository(db.dataSource).resealAll(new SecretBox(staged, [current]));
    await db.dataSource.destroy();

    const reopened = await createDataSource(db.config).initialize();
    extra.push(reopened);
    assert.deepEqual(await services(reopened, configFor(db.dataDir)).secrets.sealStoredSecrets(), {
      agents: 1,
      channels: 4,
      checks: 1,
      users: 1,
      enrolments: 1,
    });
    assert.ok((await rawTokens(reopened))[0]!.startsWith(`enc:v1:${current.id}:`));
    assert.equal((await new AgentsRepository(reopened).findByName('pacs-01'))!.token, values[0]);
  });

  it('with ROUNDS_SECRET_KEY no key file is made, and rotate-key moves every secret to ROUNDS_SECRET_KEY_NEW', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rounds-envkey-'));
    dirs.push(dataDir);
    mkdirSync(dataDir, { recursive: true });
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const ds = await createDataSource({ dataDir, secretKey: { key: oldKey } }).initialize();
    extra.push(ds);
    const values = await storeSecrets(ds);
    assert.equal(existsSync(join(dataDir, SECRET_KEY_FILE_NAME)), false);
    const oldId = secretKey(oldKey, 'x').id;
    const newId = secretKey(newKey, 'x').id;
    assert.ok((await rawTokens(ds))[0]!.startsWith(`enc:v1:${oldId}:`));

    const withoutNew = services(ds, configFor(dataDir, { ROUNDS_SECRET_KEY: oldKey.toString('base64') })).secrets;
    await assert.rejects(withoutNew.rotateKey(new Date()), {
      message: new RegExp(`^the secret key comes from ROUNDS_SECRET_KEY \\(key ${oldId}\\): set ROUNDS_SECRET_KEY_NEW to a new key made with`),
    });

    const rotate = services(ds, configFor(dataDir, { ROUNDS_SECRET_KEY: oldKey.toString('base64'), ROUNDS_SECRET_KEY_NEW: newKey.toString('base64') })).secrets;
    assert.deepEqual(await rotate.rotateKey(new Date()), [
      `re-encrypted 1 agent token, 4 notification channels, 1 check config, 1 user's two-factor secret and 1 site-key enrolment secret from key ${oldId} to key ${newId} (ROUNDS_SECRET_KEY_NEW)`,
      'now set ROUNDS_SECRET_KEY to the value of ROUNDS_SECRET_KEY_NEW, remove ROUNDS_SECRET_KEY_NEW, and start the collector; the old key opens nothing here any more',
    ]);
    assert.ok((await rawTokens(ds))[0]!.startsWith(`enc:v1:${newId}:`));
    assert.equal(storedBytes(dataDir).indexOf(`enc:v1:${oldId}:`), -1);
    await ds.destroy();

    const withOld = await createDataSource({ dataDir, secretKey: { key: oldKey } }).initialize();
    extra.push(withOld);
    await assert.rejects(new AgentsRepository(withOld).findByName('pacs-01'), SecretKeyMismatchError);
    await withOld.destroy();
    const withNew = await createDataSource({ dataDir, secretKey: { key: newKey } }).initialize();
    extra.push(withNew);
    assert.equal((await new AgentsRepository(withNew).findByName('pacs-01'))!.token, values[0]);
  });
});
