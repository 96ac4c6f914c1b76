import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { keyIdOf } from './secret-box.js';
import { leftoverRotationFiles, loadSecretKeys, secretKeySourceOf, stageNewKey, SECRET_KEY_FILE_NAME } from './secret-key.store.js';

const root = mkdtempSync(join(tmpdir(), 'rounds-secret-key-'));
let n = 0;
const freshDir = () => join(root, `d${++n}`);
const POSIX = process.platform !== 'win32';

describe('secret key store', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates the key file on first start: mode 0600, one line of base64 holding 32 bytes, in a folder it creates 0700', () => {
    const dir = freshDir();
    const file = join(dir, SECRET_KEY_FILE_NAME);
    const { current, fallbacks } = loadSecretKeys({ file });
    assert.equal(current.created, true);
    assert.equal(current.source, file);
    assert.deepEqual(fallbacks, []);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^[A-Za-z0-9+/]{43}=\n$/);
    assert.deepEqual(Buffer.from(text, 'base64'), current.bytes);
    if (POSIX) {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    }
  });

  it('reads the same key at the next start without creating another', () => {
    const file = join(freshDir(), SECRET_KEY_FILE_NAME);
    const first = loadSecretKeys({ file }).current;
    const second = loadSecretKeys({ file }).current;
    assert.equal(second.id, first.id);
    assert.equal(second.created, undefined);
  });

  it('refuses a key file that others may read (0644), naming the file and the chmod that fixes it', { skip: !POSIX }, () => {
    const file = join(freshDir(), SECRET_KEY_FILE_NAME);
    loadSecretKeys({ file });
    chmodSync(file, 0o644);
    assert.throws(() => loadSecretKeys({ file }), {
      message: `secret key file ${file} may be read by other users (mode 0644) — run \`chmod 600 ${file}\` (and consider who may have copied it: \`rounds-collector secrets rotate-key\` replaces it)`,
    });
    chmodSync(file, 0o640);
    assert.throws(() => loadSecretKeys({ file }), { message: /mode 0640/ });
    chmodSync(file, 0o600);
    assert.doesNotThrow(() => loadSecretKeys({ file }));
  });

  it('refuses a key file of the wrong size without replacing it', () => {
    const file = join(freshDir(), SECRET_KEY_FILE_NAME);
    mkdirSync(join(file, '..'), { recursive: true });
    for (const content of [`${randomBytes(16).toString('base64')}\n`, 'not a key\n', '']) {
      writeFileSync(file, content, { mode: 0o600 });
      assert.throws(() => loadSecretKeys({ file }), {
        message:
          `secret key file ${file} does not hold a 32-byte key in base64 — restore it from the backup saved with the database ` +
          '(a new key, e.g. from `openssl rand -base64 32` (or `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`), ' +
          'cannot open what this one encrypted; only for an empty database may you delete the file to have one created)',
      });
      assert.equal(readFileSync(file, 'utf8'), content);
    }
  });

  it('refuses a key file it cannot read, naming the file and the error', () => {
    const file = join(freshDir(), SECRET_KEY_FILE_NAME);
    // A folder where the file should be: unreadable as a file even for root.
    mkdirSync(file, { recursive: true, mode: 0o700 });
    assert.throws(() => loadSecretKeys({ file }), {
      message: `cannot read secret key file ${file} (EISDIR) — it must belong to the collector's user with mode 0600 (chown, chmod 600)`,
    });
  });

  it('takes ROUNDS_SECRET_KEY over any key file, and creates no file for it', () => {
    const dir = freshDir();
    const bytes = randomBytes(32);
    const config = { dataDir: dir, secretKey: bytes, secretKeyFile: join(dir, 'ignored.key') };
    const source = secretKeySourceOf(config);
    assert.deepEqual(source, { key: bytes });
    const { current } = loadSecretKeys(source);
    assert.equal(current.id, keyIdOf(bytes));
    assert.equal(current.source, 'ROUNDS_SECRET_KEY');
    assert.equal(existsSync(dir), false);
  });

  it('uses ROUNDS_SECRET_KEY_FILE when set, else secret.key in the data dir', () => {
    assert.deepEqual(secretKeySourceOf({ dataDir: '/var/lib/rounds' }), { file: join('/var/lib/rounds', 'secret.key') });
    assert.deepEqual(secretKeySourceOf({ dataDir: '/var/lib/rounds', secretKeyFile: '/etc/rounds/key' }), { file: '/etc/rounds/key' });
  });

  it("loads an interrupted rotation's staged key as a fallback and lists it as left over", () => {
    const file = join(freshDir(), SECRET_KEY_FILE_NAME);
    const { current } = loadSecretKeys({ file });
    const staged = stageNewKey(file);
    const again = loadSecretKeys({ file });
    assert.equal(again.current.id, current.id);
    assert.deepEqual(
      again.fallbacks.map((k) => k.id),
      [staged.id],
    );
    assert.deepEqual(leftoverRotationFiles(file), [`${file}.new`]);
    if (POSIX) assert.equal(statSync(`${file}.new`).mode & 0o777, 0o600);
  });
});
