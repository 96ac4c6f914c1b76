import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, redactSecrets } from '#rounds/common';
import type { ChannelType } from '../storage/entities/index.js';
import { CHANNEL_JSON_SCHEMAS, scrubSecrets, secretValues, validateChannelConfig } from './channel-config.js';

describe('channel configs', () => {
  it('fill their documented defaults', () => {
    const v = (type: ChannelType, config: unknown) => {
      const r = validateChannelConfig(type, config);
      assert.ok(r.ok, JSON.stringify(r));
      return r.value.config;
    };
    assert.deepEqual(v('smtp', { host: 'mail', from: 'a@b', to: ['c@d'] }), {
      host: 'mail',
      port: 587,
      security: 'starttls',
      from: 'a@b',
      to: ['c@d'],
      verifyCertificate: true,
    });
    assert.deepEqual(v('telegram', { botToken: '1:a', chatId: 5 }), { baseUrl: 'https://api.telegram.org', botToken: '1:a', chatId: 5, silent: false });
    assert.deepEqual(v('webhook', { url: 'https://hooks.slack.com/services/x' }), {
      url: 'https://hooks.slack.com/services/x',
      signatureHeader: 'X-Rounds-Signature',
    });
    assert.deepEqual(v('alertmanager', { url: 'http://am:9093' }), { url: 'http://am:9093', labels: {}, resolveAfterMinutes: 60 });
  });

  const invalid: [ChannelType, unknown, string][] = [
    ['smtp', { host: 'https://mail', from: 'a@b', to: ['c@d'] }, 'config.host: must be a host name or IP address, without scheme or port'],
    ['smtp', { host: 'mail', from: 'a@b', to: ['c@d'], security: 'ssl' }, 'config.security: Invalid option: expected one of "starttls"|"tls"|"none"'],
    ['smtp', { host: 'mail', from: 'a@b', to: ['c@d'], caCertificate: 'abc' }, 'config.caCertificate: must be a PEM certificate (-----BEGIN CERTIFICATE-----)'],
    ['telegram', { botToken: '1:a', chatId: 'general' }, 'config.chatId: must be a numeric chat id or @channelname'],
    ['webhook', { url: 'https://x', headers: { 'Bad Header': 'v' } }, 'config.headers.Bad Header: must be an HTTP header name'],
    ['telegram', { botToken: '1:a', chatId: 1, baseUrl: 'ftp://proxy' }, 'config.baseUrl: must be an http:// or https:// URL'],
    ['webhook', { url: 'https://x', signatureHeader: 'X Sig' }, 'config.signatureHeader: must be an HTTP header name'],
    ['alertmanager', { url: 'http://am', labels: { 'bad-label': 'x' } }, 'config.labels.bad-label: must be a Prometheus label name'],
    ['alertmanager', { url: 'http://am', resolveAfterMinutes: 1 }, 'config.resolveAfterMinutes: Too small: expected number to be >=5'],
  ];
  for (const [type, config, expected] of invalid) {
    it(`refuses ${type} ${JSON.stringify(config)} with "${expected}"`, () => {
      const r = validateChannelConfig(type, config);
      assert.equal(r.ok ? '' : r.errors.map((e) => `${e.field}: ${e.message}`).join('; '), expected);
    });
  }

  it('mark the SMTP password, bot token, webhook URL, HMAC secret and header values and Alertmanager password as secrets', () => {
    const configs: Record<ChannelType, Record<string, unknown>> = {
      smtp: { host: 'mail', username: 'u', password: 'p1-secret', from: 'a@b', to: ['c@d'] },
      telegram: { botToken: '1:p2-secret', chatId: 1 },
      webhook: { url: 'https://hooks.slack.example/services/T0/B0/url-secret', hmacSecret: 'p3-secret', headers: { Authorization: 'p4-secret' } },
      alertmanager: { url: 'http://am', username: 'u', password: 'p5-secret' },
    };
    const found = Object.entries(configs).flatMap(([type, config]) => secretValues(CHANNEL_JSON_SCHEMAS[type as ChannelType], config));
    assert.deepEqual(found, ['p1-secret', '1:p2-secret', 'https://hooks.slack.example/services/T0/B0/url-secret', 'p3-secret', 'p4-secret', 'p5-secret']);
    for (const [type, config] of Object.entries(configs)) {
      const shown = JSON.stringify(redactSecrets(CHANNEL_JSON_SCHEMAS[type as ChannelType], config));
      assert.doesNotMatch(shown, /-secret/);
      assert.ok(shown.includes(REDACTED));
    }
  });

  it('scrubSecrets() removes a secret from a text, also URL-encoded', () => {
    assert.equal(scrubSecrets('GET /bot1:abc/x?p=ab%2Fcd', ['1:abc', 'ab/cd']), `GET /bot${REDACTED}/x?p=${REDACTED}`);
  });
});
