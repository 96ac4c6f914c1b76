import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED } from '#rounds/common';
import { validateChannelConfig } from './channel-config.js';
import { CHANNEL_FORM_FIELDS, channelFormValues, configFromForm } from './channel-form.js';

describe('the channel forms derived from the channel schemas', () => {
  it('gives every field of a type its kind and marks the secrets write-only', () => {
    const smtp = Object.fromEntries(CHANNEL_FORM_FIELDS.smtp.map((f) => [f.name, f]));
    assert.deepEqual(Object.keys(smtp), ['host', 'port', 'security', 'username', 'password', 'from', 'to', 'verifyCertificate', 'caCertificate']);
    assert.equal(smtp['port']?.kind, 'number');
    assert.equal(smtp['port']?.defaultValue, '587');
    assert.deepEqual(smtp['security']?.choices, ['starttls', 'tls', 'none']);
    assert.equal(smtp['to']?.kind, 'lines');
    assert.equal(smtp['verifyCertificate']?.kind, 'boolean');
    assert.deepEqual(
      Object.values(CHANNEL_FORM_FIELDS)
        .flat()
        .filter((f) => f.secret)
        .map((f) => f.name),
      ['password', 'botToken', 'url', 'hmacSecret', 'headers', 'password'],
    );
  });

  it('turns a filled SMTP form into a config its schema accepts', () => {
    const config = configFromForm('smtp', {
      host: 'relay.hospital.example',
      port: '25',
      security: 'none',
      username: 'rounds',
      password: 'pw-1234',
      from: 'rounds@hospital.example',
      to: 'it@hospital.example\r\n\r\n  oncall@hospital.example ',
      verifyCertificate: 'true',
      caCertificate: '',
    });
    assert.deepEqual(config, {
      host: 'relay.hospital.example',
      port: 25,
      security: 'none',
      username: 'rounds',
      password: 'pw-1234',
      from: 'rounds@hospital.example',
      to: ['it@hospital.example', 'oncall@hospital.example'],
      verifyCertificate: true,
    });
    assert.equal(validateChannelConfig('smtp', config).ok, true);
  });

  it('sends the redacted placeholder back for an empty secret field on edit, a new value when one is typed, and never shows a secret', () => {
    const stored = { url: REDACTED, headers: { Authorization: REDACTED }, signatureHeader: 'X-Sig' };
    assert.deepEqual(channelFormValues('webhook', stored), { url: '', hmacSecret: '', signatureHeader: 'X-Sig', headers: '' });
    assert.deepEqual(configFromForm('webhook', { url: '', hmacSecret: '', signatureHeader: 'X-Sig', headers: '' }, stored), {
      url: REDACTED,
      signatureHeader: 'X-Sig',
      headers: { Authorization: REDACTED },
    });
    assert.deepEqual(configFromForm('webhook', { url: 'https://new.example/h', headers: 'X-Token: abc' }, stored), {
      url: 'https://new.example/h',
      headers: { 'X-Token': 'abc' },
    });
    assert.deepEqual(configFromForm('telegram', { botToken: '', chatId: '-1001' }), { chatId: -1001 }, 'on create an empty secret is left out');
  });
});
