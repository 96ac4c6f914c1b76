import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selfSignedCert, type TlsFixture } from '#rounds/plugins/testing';
import { smtpConfigSchema, type SmtpConfig } from '../channel-config.js';
import type { NotificationMessage } from '../message.js';
import { previewOf } from '../notifiers.js';
import { SmtpNotifier } from './smtp.notifier.js';
import { startSmtp, type TestSmtp } from '../../../../../test/peers/smtp.js';

/** The decoded content of a MIME part of `type` (7bit or quoted-printable), line ends as \n. */
function partOf(raw: string, type: string): string {
  const start = raw.search(new RegExp(`^Content-Type: ${type.replace('/', '\\/')}`, 'm'));
  assert.ok(start >= 0, `no ${type} part in ${raw}`);
  const body = raw.slice(raw.indexOf('\r\n\r\n', start) + 4);
  return decodeQp(body.slice(0, body.search(/\r\n--/))).replace(/\r\n/g, '\n');
}

/** Undoes quoted-printable soft line breaks and escapes, enough to read a rendered body. */
function decodeQp(text: string): string {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const message: NotificationMessage = {
  key: 'alert-42:firing:1',
  kind: 'firing',
  severity: 'critical',
  title: 'PACS web is CRITICAL',
  checkName: 'PACS web',
  agentName: 'pacs-01',
  since: Date.parse('2026-11-20T13:03:00Z'),
  reason: 'timeout',
  summary: 'no answer from https://pacs-01/ within 10 s',
  url: 'https://rounds.example/checks/c-42',
  labels: { check_id: 'c-42' },
};

const config = (port: number, extra: Partial<SmtpConfig> = {}): SmtpConfig =>
  smtpConfigSchema.parse({
    host: '127.0.0.1',
    port,
    username: 'rounds',
    password: 'smtp-pass-w0rd',
    from: 'rounds@hospital.example',
    to: ['it@hospital.example', 'pacs-admin@hospital.example'],
    ...extra,
  });

describe('SmtpNotifier against a real SMTP server', () => {
  let tls: TlsFixture;
  let starttls: TestSmtp;
  let implicit: TestSmtp;
  const notifier = new SmtpNotifier();
  const signal = () => AbortSignal.timeout(10_000);

  before(async () => {
    tls = await selfSignedCert(30, '127.0.0.1');
    starttls = await startSmtp({ key: tls.key, cert: tls.cert });
    implicit = await startSmtp({ secure: true, key: tls.key, cert: tls.cert });
  });
  after(async () => {
    await starttls.close();
    await implicit.close();
  });

  it('send() delivers over STARTTLS with login, and the mail says what, where, since when, why, and links to the check', async () => {
    await notifier.send(config(starttls.port, { caCertificate: tls.cert }), message, signal());
    const mail = starttls.received.at(-1)!;
    assert.equal(mail.secure, true);
    assert.equal(mail.user, 'rounds');
    assert.equal(mail.from, 'rounds@hospital.example');
    assert.deepEqual(mail.to, ['it@hospital.example', 'pacs-admin@hospital.example']);
    assert.match(mail.raw, /^Subject: \[FIRING\] PACS web is CRITICAL\r?$/m);
    assert.match(mail.raw, /^X-Rounds-Key: alert-42:firing:1\r?$/m);
    assert.match(mail.raw, /^Message-ID: <[0-9a-f]{32}@hospital\.example>\r?$/m);
    const body = decodeQp(mail.raw);
    assert.match(body, /What: PACS web is CRITICAL/);
    assert.match(body, /Check: PACS web/);
    assert.match(body, /Where: agent pacs-01/);
    assert.match(body, /Since: 2026-11-20 \d\d:03:00 [+-]\d\d:\d\d \(/);
    assert.match(body, /Reason: timeout/);
    assert.match(body, /Summary: no answer from https:\/\/pacs-01\/ within 10 s/);
    assert.match(body, /Open: https:\/\/rounds\.example\/checks\/c-42/);
    assert.match(body, /<a href="https:\/\/rounds\.example\/checks\/c-42">/);
  });

  it('the same notification sent twice carries the same Message-ID, so mail systems can drop the duplicate', async () => {
    await notifier.send(config(starttls.port, { caCertificate: tls.cert }), message, signal());
    await notifier.send(config(starttls.port, { caCertificate: tls.cert }), message, signal());
    const ids = starttls.received.slice(-2).map((m) => /^Message-ID: (.*)$/m.exec(m.raw)?.[1]);
    assert.equal(ids[0], ids[1]);
  });

  it('a templated channel sends exactly what its preview shows, hostile label values escaped only in the HTML part', async () => {
    const templated = config(starttls.port, {
      caCertificate: tls.cert,
      template: { subject: '{{severity}}: {{labels.site}}', body: 'Site {{labels.site}}\nSummary {{summary}}', html: '<p>{{labels.site}}</p>' },
    });
    const hostile = { ...message, labels: { ...message.labels, site: '<script>x</script> & *_[' } };
    const preview = previewOf({ type: 'smtp', config: templated }, hostile, Date.now());
    assert.equal(preview.type, 'smtp');
    await notifier.send(templated, hostile, signal());
    const mail = starttls.received.at(-1)!;
    assert.match(mail.raw, new RegExp(`^Subject: ${preview.mail.subject.replace(/[[\]*&/]/g, '\\$&')}\r?$`, 'm'));
    assert.equal(partOf(mail.raw, 'text/plain'), preview.mail.text);
    assert.equal(partOf(mail.raw, 'text/html'), preview.mail.html);
    assert.equal(preview.mail.html, '<p>&lt;script&gt;x&lt;/script&gt; &amp; *_[</p>');
    assert.match(mail.raw, new RegExp(`^Message-ID: ${preview.mail.messageId}\r?$`, 'm'));
  });

  it('send() delivers over implicit TLS (security: tls)', async () => {
    await notifier.send(
      config(implicit.port, { security: 'tls', caCertificate: tls.cert }),
      { ...message, kind: 'resolved', resolvedAt: message.since + 720_000 },
      signal(),
    );
    const mail = implicit.received.at(-1)!;
    assert.equal(mail.secure, true);
    assert.match(mail.raw, /^Subject: \[RESOLVED\] PACS web is CRITICAL\r?$/m);
    assert.match(decodeQp(mail.raw), /\(12 min\)/);
  });

  it('send() refuses a server whose certificate it cannot verify, saying how to trust it', async () => {
    await assert.rejects(notifier.send(config(starttls.port), message, signal()), (e: Error) => {
      assert.match(e.message, /^SMTP 127\.0\.0\.1:\d+: TLS certificate not trusted: .* — set caCertificate/);
      return true;
    });
  });

  it('send() reports a refused login without showing the password', async () => {
    await assert.rejects(notifier.send(config(starttls.port, { caCertificate: tls.cert, password: 'wrong-secret-pass' }), message, signal()), (e: Error) => {
      assert.match(e.message, /the server refused the login .*535.* — check username and password/);
      assert.ok(!e.message.includes('wrong-secret-pass'));
      return true;
    });
  });

  it('send() names a closed port', async () => {
    const closed = await startSmtp({});
    await closed.close();
    await assert.rejects(notifier.send(config(closed.port, { security: 'none' }), message, signal()), /connection refused — check host, port/);
  });

  it('send() gives up when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(notifier.send(config(starttls.port, { caCertificate: tls.cert }), message, controller.signal), /no answer before the deadline/);
  });
});
