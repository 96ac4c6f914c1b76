import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import type { AuditContext } from '../audit/audit.types.js';
import { readCollectorConfig } from '../config/env.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { openTestDatabase } from '../storage/testing.js';
import { PasswordHasher } from '../users/passwords.js';
import { UsersRepository } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';
import { LAST_USED_PRECISION_MS } from './api-tokens.repository.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { ApiTokensService, ENV_TOKEN_NAME, FIRST_TOKEN_NAME, IMPORTED_TOKEN_NAME, type TokenVerdict } from './api-tokens.service.js';
import { LegacyApiTokenStore } from './legacy-api-token.store.js';

const CONTEXT: AuditContext = { actor: 'admin', source: 'ui', address: '127.0.0.1', userAgent: 'spec' };
const PEER = '10.1.2.3';

describe('ApiTokensService', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let clock: ManualClock;
  let users: UsersService;
  let closers: ApiTokensService[];

  /** The service as the collector builds it, over this database, with `env` as its settings. */
  const service = (env: Record<string, string> = {}) => {
    const config = readCollectorConfig({ ROUNDS_DATA_DIR: db.dataDir, ...env });
    const made = new ApiTokensService(new ApiTokensRepository(db.dataSource), users, new LegacyApiTokenStore(config), config, clock);
    closers.push(made);
    return made;
  };
  const principalOf = (verdict: TokenVerdict) => {
    assert.ok(verdict.ok, `refused: ${verdict.ok ? '' : verdict.message}`);
    return verdict.principal;
  };
  const refusal = (verdict: TokenVerdict) => {
    assert.ok(!verdict.ok, 'let in');
    return verdict;
  };
  const bearer = (token: string) => `Bearer ${token}`;

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(Date.UTC(2026, 11, 3, 12));
    closers = [];
    users = new UsersService(new UsersRepository(db.dataSource), new PasswordHasher());
    await users.ensureFirstAdmin();
    await users.add({ name: 'grafana-owner', role: 'viewer', password: 'a long viewer password' }, CONTEXT);
  });
  afterEach(async () => {
    for (const s of closers) s.onModuleDestroy();
    await db.close();
  });

  it('shows a new token once and stores only its SHA-256 and prefix; it acts with the owner’s current role', async () => {
    const tokens = service();
    const { token, view } = await tokens.create('grafana-owner', { name: 'grafana' }, CONTEXT);
    assert.match(token, /^rnd_[A-Za-z0-9_-]{32}$/);
    assert.deepEqual([view.owner, view.name, view.prefix, view.state], ['grafana-owner', 'grafana', token.slice(0, 10), 'active']);
    // Two queries: joined, audit_log's own hash column would hide the token's.
    const stored = JSON.stringify([await db.dataSource.query('SELECT * FROM api_tokens'), await db.dataSource.query('SELECT * FROM audit_log')]);
    assert.ok(!stored.includes(token), 'the token is nowhere in the database');
    assert.ok(stored.includes(createHash('sha256').update(token).digest('hex')));

    const first = principalOf(await tokens.authenticate(bearer(token), PEER, 'GET /api/v1/me'));
    assert.deepEqual([first.name, first.role, first.via, first.credentialId], ['grafana-owner', 'viewer', 'token', view.id]);
    await users.setRole('grafana-owner', 'operator', CONTEXT);
    assert.equal(principalOf(await tokens.authenticate(`bearer  ${token}`, PEER, 'x')).role, 'operator', 'the next call has the new role');
  });

  it('refuses a missing, wrong, revoked or expired token and a disabled owner, each saying what to do', async () => {
    const tokens = service();
    const { token, view } = await tokens.create('grafana-owner', { name: 'grafana', expiresInMs: 86_400_000 }, CONTEXT);
    assert.match(
      refusal(await tokens.authenticate(undefined, PEER, 'x')).message,
      /^send an API token as "Authorization: Bearer <token>" — create one under Account → API tokens/,
    );
    const wrong = refusal(await tokens.authenticate(bearer(`${token}x`), PEER, 'x'));
    assert.equal(wrong.why, 'wrong');
    assert.match(wrong.message, /not known here/);

    await users.setDisabled('grafana-owner', true, CONTEXT);
    assert.match(refusal(await tokens.authenticate(bearer(token), PEER, 'x')).message, /belongs to a disabled user — an admin can enable them/);
    await users.setDisabled('grafana-owner', false, CONTEXT);

    await clock.advance(86_400_000);
    const expired = refusal(await tokens.authenticate(bearer(token), PEER, 'x'));
    assert.equal(expired.why, 'expired');
    assert.match(expired.message, /API token "grafana" of grafana-owner expired at 2026-12-04T12:00:00.000Z — rotate it or create one/);
    assert.equal((await tokens.list('grafana-owner'))[0]!.state, 'expired');

    const other = await tokens.create('grafana-owner', { name: 'backup script' }, CONTEXT);
    assert.ok((await tokens.authenticate(bearer(other.token), PEER, 'x')).ok);
    await tokens.revoke(other.view.prefix, CONTEXT);
    const revoked = refusal(await tokens.authenticate(bearer(other.token), PEER, 'x'));
    assert.equal(revoked.why, 'revoked');
    assert.match(revoked.message, /was revoked at/);
    await assert.rejects(tokens.revoke(other.view.id, CONTEXT), (e: unknown) => e instanceof ConflictError && /revoked already/.test(e.message));
    await assert.rejects(tokens.revoke('rnd_nothing', CONTEXT), NotFoundError);
    assert.ok(view.id);
  });

  it('throttles an address after repeated wrong tokens — even the right token waits — and forgives it after a success', async () => {
    const tokens = service();
    const { token } = await tokens.create('admin', { name: 'ci' }, CONTEXT);
    for (let i = 0; i < 6; i++) assert.equal(refusal(await tokens.authenticate(bearer('rnd_guess'), PEER, 'x')).why, 'wrong', `guess ${i + 1}`);
    const throttled = refusal(await tokens.authenticate(bearer(token), PEER, 'x'));
    assert.equal(throttled.why, 'throttled');
    assert.equal(throttled.retryAfterMs, 1000);
    assert.match(throttled.message, /^too many wrong API tokens from 10\.1\.2\.3: refused without checking for 1 s more/);
    assert.ok((await tokens.authenticate(bearer(token), '10.9.9.9', 'x')).ok, 'another address is not held up');
    await clock.advance(1000);
    assert.ok((await tokens.authenticate(bearer(token), PEER, 'x')).ok);
    assert.equal(refusal(await tokens.authenticate(bearer('rnd_guess'), PEER, 'x')).why, 'wrong', 'forgiven: a plain refusal again');
  });

  it('notes the last use at most once a minute, with the address', async () => {
    const tokens = service();
    const { token } = await tokens.create('admin', { name: 'prometheus' }, CONTEXT);
    const lastUsed = async () => (await tokens.list('admin')).find((t) => t.name === 'prometheus')!;
    assert.equal((await lastUsed()).lastUsedAt, null);
    await tokens.authenticate(bearer(token), '::ffff:10.0.0.7', 'x');
    const first = clock.now();
    assert.deepEqual([(await lastUsed()).lastUsedAt, (await lastUsed()).lastUsedAddress], [first, '10.0.0.7']);
    await clock.advance(LAST_USED_PRECISION_MS - 1);
    await tokens.authenticate(bearer(token), '10.0.0.8', 'x');
    assert.equal((await lastUsed()).lastUsedAt, first, 'not written again within the minute');
    await clock.advance(1);
    await tokens.authenticate(bearer(token), '10.0.0.8', 'x');
    assert.deepEqual([(await lastUsed()).lastUsedAt, (await lastUsed()).lastUsedAddress], [clock.now(), '10.0.0.8']);
  });

  it('rotates: the old token stops at once, the new one has the same owner, name and lifetime; audited without secrets', async () => {
    const tokens = service();
    const old = await tokens.create('grafana-owner', { name: 'grafana', expiresInMs: 30 * 86_400_000 }, CONTEXT);
    await clock.advance(10 * 86_400_000);
    const rotated = await tokens.rotate(old.view.id, CONTEXT);
    assert.equal(refusal(await tokens.authenticate(bearer(old.token), PEER, 'x')).why, 'revoked');
    assert.equal(principalOf(await tokens.authenticate(bearer(rotated.token), PEER, 'x')).name, 'grafana-owner');
    assert.deepEqual([rotated.view.name, rotated.view.expiresAt], ['grafana', clock.now() + 30 * 86_400_000]);
    await assert.rejects(tokens.rotate(old.view.id, CONTEXT), ConflictError);
    const audit = await db.dataSource.query<{ action: string; before_json: string; after_json: string }[]>(
      "SELECT action, before_json, after_json FROM audit_log WHERE target_kind = 'api-token' ORDER BY id",
    );
    assert.deepEqual(
      audit.map((r) => r.action),
      ['api-token.create', 'api-token.rotate'],
    );
    assert.ok(!JSON.stringify(audit).includes(old.token) && !JSON.stringify(audit).includes(rotated.token));
  });

  it('refuses a bad name, a duplicate live name, an expiry in the past and an unknown owner, changing nothing', async () => {
    const tokens = service();
    await assert.rejects(tokens.create('admin', { name: '  ' }, CONTEXT), ValidationFailedError);
    await assert.rejects(tokens.create('admin', { name: 'line\nbreak' }, CONTEXT), ValidationFailedError);
    await assert.rejects(tokens.create('admin', { name: 'x', expiresAt: clock.now() - 1 }, CONTEXT), (e: unknown) => {
      assert.ok(e instanceof ValidationFailedError);
      assert.deepEqual(e.errors, [{ field: 'expiresAt', message: 'the expiry must be in the future' }]);
      return true;
    });
    await assert.rejects(tokens.create('nobody', { name: 'x' }, CONTEXT), NotFoundError);
    await tokens.create('admin', { name: 'ci' }, CONTEXT);
    await assert.rejects(tokens.create('admin', { name: 'ci' }, CONTEXT), (e: unknown) => e instanceof ConflictError && e.field === 'name');
    assert.equal((await tokens.list()).length, 1);
    // Only one's own, when scoped: another user's token reads as unknown.
    const theirs = await tokens.create('grafana-owner', { name: 'theirs' }, CONTEXT);
    await assert.rejects(tokens.revoke(theirs.view.id, CONTEXT, { owner: 'admin' }), NotFoundError);
  });

  it('first start: makes one token for the first admin, once; later starts make none', async () => {
    const first = await service().ensure();
    assert.match(first.created ?? '', /^rnd_/);
    const [view] = await service().list();
    assert.deepEqual([view?.owner, view?.name], ['admin', FIRST_TOKEN_NAME]);
    assert.ok((await service().authenticate(bearer(first.created!), PEER, 'x')).ok);
    assert.deepEqual(await service().ensure(), {});
    assert.equal((await service().list()).length, 1);
  });

  it('ROUNDS_API_TOKEN becomes a token of the first admin, so scripts using it keep working', async () => {
    const env = { ROUNDS_API_TOKEN: 'from-the-environment-0123456789' };
    assert.deepEqual(await service(env).ensure(), {});
    assert.deepEqual(await service(env).ensure(), {}, 'not twice');
    const tokens = await service(env).list();
    assert.deepEqual(
      tokens.map((t) => [t.owner, t.name, t.prefix]),
      [['admin', ENV_TOKEN_NAME, 'from-the-e']],
    );
    assert.equal(principalOf(await service(env).authenticate(bearer(env.ROUNDS_API_TOKEN), PEER, 'x')).role, 'admin');
  });

  it('upgrade: the single API token of before users becomes an admin’s, and its hash file is moved aside once', async () => {
    const legacy = 'rnd_the-token-scripts-use-since-last-year';
    const file = join(db.dataDir, 'api-token.sha256');
    writeFileSync(file, `${createHash('sha256').update(legacy).digest('hex')}\n`, { mode: 0o600 });
    const result = await service().ensure();
    assert.deepEqual(result, { imported: `${file}.imported` });
    assert.equal(existsSync(file), false);
    assert.equal(principalOf(await service().authenticate(bearer(legacy), PEER, 'x')).name, 'admin');
    assert.deepEqual(
      (await service().list()).map((t) => t.name),
      [IMPORTED_TOKEN_NAME],
    );
    assert.deepEqual(await service().ensure(), {}, 'no first token: one exists');
  });
});
