import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, redactSecrets, restoreRedacted } from './secrets.js';

const secret = { type: 'string', 'x-secret': true };

/** Shaped like the JSON Schema zod emits for a plugin config with secrets at every depth. */
const schema = {
  type: 'object',
  properties: {
    url: { type: 'string' },
    bearerToken: secret,
    basicAuth: {
      type: 'object',
      properties: { username: { type: 'string' }, password: secret },
    },
    shares: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, password: secret } },
    },
    apiKeys: { type: 'object', additionalProperties: secret },
  },
  additionalProperties: false,
};

const stored = {
  url: 'https://pacs.example.org/',
  bearerToken: 'stored-token',
  basicAuth: { username: 'svc', password: 'stored-password' },
  shares: [
    { path: '\\\\nas\\dicom', password: 'stored-share-1' },
    { path: '\\\\nas\\reports', password: 'stored-share-2' },
  ],
  apiKeys: { orthanc: 'stored-key-1', ris: 'stored-key-2' },
};

describe('redactSecrets', () => {
  it('replaces every secret, nested in objects, arrays and additionalProperties maps, and keeps the rest', () => {
    assert.deepEqual(redactSecrets(schema, stored), {
      url: 'https://pacs.example.org/',
      bearerToken: REDACTED,
      basicAuth: { username: 'svc', password: REDACTED },
      shares: [
        { path: '\\\\nas\\dicom', password: REDACTED },
        { path: '\\\\nas\\reports', password: REDACTED },
      ],
      apiKeys: { orthanc: REDACTED, ris: REDACTED },
    });
  });

  it('returns a copy and leaves the stored config untouched', () => {
    const before = structuredClone(stored);
    const redacted = redactSecrets(schema, stored) as typeof stored;
    assert.notEqual(redacted, stored);
    assert.notEqual(redacted.basicAuth, stored.basicAuth);
    assert.deepEqual(stored, before);
  });

  it('leaves an unset or empty secret as it is, so a person can see it was never set', () => {
    assert.deepEqual(redactSecrets(schema, { url: 'x', bearerToken: '' }), { url: 'x', bearerToken: '' });
    assert.equal(redactSecrets(secret, undefined), undefined);
  });

  it('redacts a secret of any type, not only strings', () => {
    assert.deepEqual(redactSecrets({ properties: { pin: { 'x-secret': true } } }, { pin: 1234 }), { pin: REDACTED });
  });

  it('passes a value through unchanged when there is no schema for it', () => {
    assert.deepEqual(redactSecrets(undefined, { password: 'p' }), { password: 'p' });
    assert.deepEqual(redactSecrets({ type: 'object' }, { other: 'p' }), { other: 'p' });
  });
});

describe('restoreRedacted', () => {
  it('puts back every stored secret that was sent back as REDACTED, at any depth', () => {
    const submitted = redactSecrets(schema, stored);
    assert.deepEqual(restoreRedacted(schema, submitted, stored), stored);
  });

  it('takes a new value where one was typed, and keeps the stored one elsewhere', () => {
    const submitted = {
      url: 'https://pacs2.example.org/',
      bearerToken: 'new-token',
      basicAuth: { username: 'svc2', password: REDACTED },
      shares: [
        { path: '\\\\nas\\dicom', password: REDACTED },
        { path: '\\\\nas\\reports', password: 'new-share-2' },
      ],
      apiKeys: { orthanc: 'new-key-1', ris: REDACTED },
    };
    assert.deepEqual(restoreRedacted(schema, submitted, stored), {
      url: 'https://pacs2.example.org/',
      bearerToken: 'new-token',
      basicAuth: { username: 'svc2', password: 'stored-password' },
      shares: [
        { path: '\\\\nas\\dicom', password: 'stored-share-1' },
        { path: '\\\\nas\\reports', password: 'new-share-2' },
      ],
      apiKeys: { orthanc: 'new-key-1', ris: 'stored-key-2' },
    });
  });

  it('never saves the REDACTED placeholder for a secret added since (nothing stored to restore)', () => {
    const restored = restoreRedacted(schema, { url: 'x', basicAuth: { username: 'u', password: REDACTED }, apiKeys: { pacs: REDACTED } }, { url: 'x' });
    assert.deepEqual(restored, { url: 'x', basicAuth: { username: 'u', password: undefined }, apiKeys: { pacs: undefined } });
  });

  it('drops a secret the submitted config no longer has', () => {
    assert.deepEqual(restoreRedacted(schema, { url: 'x' }, stored), { url: 'x' });
  });

  it('keeps REDACTED literally in a field that is not secret', () => {
    assert.deepEqual(restoreRedacted(schema, { url: REDACTED }, stored), { url: REDACTED });
  });
});
