import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ManualClock } from '#rounds/common';
import { loadAgentConfig, sha256Hex } from '../config/agent-config.js';
import { TokenGuard } from '../controllers/token.guard.js';
import { TokenKeeper, TokenRotationRefused } from './token-keeper.js';

const OLD = 'old-token-0123456789abcdefghijklmnop';
const NEW = 'new-token-0123456789abcdefghijklmnop';

const CONFIG = `# rounds-agent configuration, written by \`rounds-agent init\`.
# The operator's own note: keep this comment.
id: 6f1c1a4e-1d2b-4c3d-9e8f-0123456789ab
listen: 127.0.0.1:0
tokenSha256: ${sha256Hex(OLD)}
tls:
  cert: agent.crt
  key: agent.key
checks:
  concurrency: 4 # tuned for this host
`;

const bearer = (token: string) => {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
};

describe('token rotation on the agent (TokenKeeper and the door)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rounds-rotate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function setup(name: string, write?: ConstructorParameters<typeof TokenKeeper>[4]) {
    const path = join(dir, name);
    writeFileSync(path, CONFIG, { mode: 0o644 });
    const lines: string[] = [];
    const config = loadAgentConfig(path, { logLevel: 'error' });
    const keeper = new TokenKeeper(path, config, config.tokenFromEnv, { log: (l) => lines.push(l), error: (l) => lines.push(`ERROR ${l}`) }, write);
    const guard = new TokenGuard(keeper, new ManualClock(0), () => {});
    const call = (token: string) => guard.check(bearer(token), '10.0.0.9', 'Collect')?.code ?? 'ok';
    return { path, keeper, call, lines };
  }

  it('accepts the old and the new token once staged, then only the new one from its first use — each step in the file, comments kept, owner-only', async () => {
    const { path, keeper, call, lines } = setup('agent.yaml');
    assert.equal(call(NEW), GrpcStatus.UNAUTHENTICATED, 'not before the rotation');
    await keeper.stage(sha256Hex(NEW));
    const staged = readFileSync(path, 'utf8');
    assert.match(staged, new RegExp(`tokenSha256: ${sha256Hex(OLD)}\\nnextTokenSha256: ${sha256Hex(NEW)}`));
    assert.match(staged, /# The operator's own note: keep this comment\.\n/);
    assert.match(staged, /concurrency: 4 # tuned for this host/);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    // A restart in between reads both from the file.
    assert.equal(loadAgentConfig(path, { logLevel: 'error' }).nextTokenSha256, sha256Hex(NEW));

    assert.equal(call(OLD), 'ok', 'the old token until the new one is used');
    assert.equal(call(NEW), 'ok');
    assert.equal(call(OLD), GrpcStatus.UNAUTHENTICATED, 'the old token is refused from the first use of the new one');
    await keeper.settled();
    const promoted = loadAgentConfig(path, { logLevel: 'error' });
    assert.deepEqual([promoted.tokenSha256, promoted.nextTokenSha256], [sha256Hex(NEW), undefined]);
    assert.match(readFileSync(path, 'utf8'), /# The operator's own note/);
    assert.equal(keeper.rotating, false);
    assert.deepEqual(lines, [
      'token rotation: a new token is accepted beside the current one until the collector uses it',
      'the collector uses the new token: the old one is no longer accepted',
    ]);
  });

  it('refuses a malformed hash, the current token again, and a token that ROUNDS_AGENT_TOKEN sets — changing nothing', async () => {
    const { path, keeper, call } = setup('refuse.yaml');
    await assert.rejects(keeper.stage('ABC'), (e: TokenRotationRefused) => e.reason === 'invalid' && /64 lower-case hex/.test(e.message));
    await assert.rejects(keeper.stage(sha256Hex(OLD)), /the new token is the current one/);
    assert.equal(readFileSync(path, 'utf8'), CONFIG);

    const config = loadAgentConfig(path, { logLevel: 'error', token: 'from-the-environment' });
    const fromEnv = new TokenKeeper(path, config, config.tokenFromEnv, { log: () => {}, error: () => {} });
    await assert.rejects(fromEnv.stage(sha256Hex(NEW)), (e: TokenRotationRefused) => e.reason === 'precondition' && /ROUNDS_AGENT_TOKEN/.test(e.message));
    assert.equal(readFileSync(path, 'utf8'), CONFIG);
    assert.equal(call(OLD), 'ok');
  });

  it('keeps the old token when the file cannot be written (a full disk): the rotation fails, nothing is accepted that is not on disk', async () => {
    const { path, keeper, call } = setup('full.yaml', () => Promise.reject(new Error('ENOSPC: no space left on device')));
    await assert.rejects(keeper.stage(sha256Hex(NEW)), /ENOSPC/);
    assert.equal(call(NEW), GrpcStatus.UNAUTHENTICATED);
    assert.equal(call(OLD), 'ok');
    assert.equal(readFileSync(path, 'utf8'), CONFIG);
  });

  it('a promotion that cannot be written stays in force, says why, and is written on the next call', async () => {
    let failures = 1;
    const writes: string[] = [];
    const { keeper, call, lines } = setup('retry.yaml', async (_p, h) => {
      if (writes.length > 0 && failures-- > 0) throw new Error('EROFS: read-only file system');
      writes.push(`${h.tokenSha256?.slice(0, 4)}/${h.nextTokenSha256?.slice(0, 4) ?? '-'}`);
    });
    await keeper.stage(sha256Hex(NEW));
    assert.equal(call(NEW), 'ok');
    await keeper.settled();
    assert.match(lines.at(-1)!, /^ERROR cannot write the new token to .*retry\.yaml: EROFS/);
    assert.equal(call(OLD), GrpcStatus.UNAUTHENTICATED, 'in force in memory');
    assert.equal(call(NEW), 'ok');
    await keeper.settled();
    assert.deepEqual(writes, [`${sha256Hex(OLD).slice(0, 4)}/${sha256Hex(NEW).slice(0, 4)}`, `${sha256Hex(NEW).slice(0, 4)}/-`]);
  });
});
