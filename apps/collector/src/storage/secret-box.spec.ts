import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox, SecretKeyMismatchError, SecretTamperedError, isSealed, secretKey } from './secret-box.js';

const key = (source = '/data/secret.key') => secretKey(randomBytes(32), source);

/** Flips one bit of the envelope's last part (ciphertext + tag), keeping it valid base64url. */
function tamper(envelope: string, at: number): string {
  const parts = envelope.split(':');
  const body = Buffer.from(parts[4]!, 'base64url');
  body[at]! ^= 0x01;
  parts[4] = body.toString('base64url');
  return parts.join(':');
}

describe('SecretBox', () => {
  it('seals a value into an enc:v1 envelope naming its key and opens it again', () => {
    const k = key();
    const box = new SecretBox(k);
    for (const plain of ['t'.repeat(43), 'https://hooks.slack.com/services/T000/B000/abcd', 'pässwörd ✓', '']) {
      const sealed = box.seal(plain);
      assert.match(sealed, new RegExp(`^enc:v1:${k.id}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$`));
      assert.ok(!sealed.includes(plain) || plain === '');
      assert.equal(box.open(sealed, 'the value'), plain);
      assert.ok(box.isCurrent(sealed));
    }
  });

  it('uses a fresh IV per value: the same plaintext never seals to the same text', () => {
    const box = new SecretBox(key());
    const a = box.seal('same secret');
    const b = box.seal('same secret');
    assert.notEqual(a, b);
    assert.notEqual(a.split(':')[3], b.split(':')[3]);
  });

  it('returns a value stored before encryption (no envelope) as it is, for the start-up sweep to seal', () => {
    const box = new SecretBox(key());
    assert.equal(isSealed('plain-token'), false);
    assert.equal(box.open('plain-token', 'the token of agent "pacs-01"'), 'plain-token');
    assert.equal(box.isCurrent('plain-token'), false);
  });

  it('refuses a tampered ciphertext or tag, naming the value and what to do', () => {
    const box = new SecretBox(key());
    const sealed = box.seal('123456:bot-token');
    const bodyLength = Buffer.from(sealed.split(':')[4]!, 'base64url').length;
    for (const at of [0, bodyLength - 1]) {
      assert.throws(() => box.open(tamper(sealed, at), 'config.botToken of channel "tg"'), {
        name: 'SecretTamperedError',
        message:
          'config.botToken of channel "tg" cannot be decrypted: authentication failed — it was altered or damaged in the database; ' +
          'enter it again (re-enrol the agent, or save the channel with its secret)',
      });
    }
    assert.throws(() => box.open(sealed.slice(0, 30), 'x'), SecretTamperedError);
  });

  it('refuses an envelope whose header was changed: the key id is authenticated with the ciphertext', () => {
    const a = key();
    const b = key();
    const box = new SecretBox(a, [b]);
    const sealed = box.seal('secret');
    assert.throws(() => box.open(sealed.replace(`:${a.id}:`, `:${b.id}:`), 'x'), { name: 'SecretTamperedError', message: /authentication failed/ });
  });

  it('refuses a value sealed with another key, naming both key ids, where the key came from and what to do', () => {
    const theirs = new SecretBox(key());
    const ours = key('/var/lib/rounds/secret.key');
    const sealed = theirs.seal('secret');
    assert.throws(
      () => new SecretBox(ours).open(sealed, 'the token of agent "pacs-01"'),
      (e: unknown) => {
        assert.ok(e instanceof SecretKeyMismatchError);
        assert.equal(e.keyId, theirs.current.id);
        assert.equal(
          e.message,
          `the token of agent "pacs-01" was encrypted with secret key ${theirs.current.id}, but the key in use is ${ours.id} (from /var/lib/rounds/secret.key) — ` +
            'put back the key this database was encrypted with (the secret.key saved with its backup, or the ROUNDS_SECRET_KEY it ran with); ' +
            'if that key is lost, the agents must be enrolled again and the channel secrets entered again',
        );
        return true;
      },
    );
  });

  it('says when the key in use was created on this start', () => {
    const sealed = new SecretBox(key()).seal('secret');
    const fresh = secretKey(randomBytes(32), '/data/secret.key', true);
    assert.throws(() => new SecretBox(fresh).open(sealed, 'x'), {
      message: /\(from \/data\/secret\.key\), created on this start because none was found — put back/,
    });
  });

  it('opens values of a fallback key but counts only the current key as current', () => {
    const old = key();
    const next = key();
    const sealedOld = new SecretBox(old).seal('secret');
    const box = new SecretBox(next, [old]);
    assert.equal(box.open(sealedOld, 'x'), 'secret');
    assert.equal(box.isCurrent(sealedOld), false);
    assert.ok(box.seal('secret').startsWith(`enc:v1:${next.id}:`));
  });

  it('refuses a newer envelope version, saying to upgrade', () => {
    assert.throws(() => new SecretBox(key()).open('enc:v2:abc:def', 'x'), {
      message: /its format enc:v2 is newer than this collector understands \(upgrade the collector\)/,
    });
  });

  it('refuses a key that is not 32 bytes, saying how to make one', () => {
    assert.throws(() => secretKey(randomBytes(16), 'ROUNDS_SECRET_KEY'), {
      message: /^the secret key from ROUNDS_SECRET_KEY has 16 bytes, not 32 — make one with `openssl rand -base64 32`/,
    });
  });
});
