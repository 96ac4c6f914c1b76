import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { smtpConfigSchema, telegramConfigSchema, validateChannelConfig, webhookConfigSchema } from './channel-config.js';
import { htmlOf, telegramHtmlOf, textOf, type NotificationMessage } from './message.js';
import { previewOf } from './notifiers.js';
import { mailOf } from './notifiers/smtp.notifier.js';
import { telegramRequest } from './notifiers/telegram.notifier.js';
import { webhookBody } from './notifiers/webhook.notifier.js';
import { PLACEHOLDERS, templateProblem } from './templates.js';

const since = Date.parse('2026-11-20T13:03:00Z');
const now = since + 12 * 60_000;
const HOSTILE = '<script>alert(1)</script> *_[`~]( & "quoted" \\ </b><a href="x">';
const message: NotificationMessage = {
  key: 'alert-7:firing:1',
  kind: 'firing',
  severity: 'critical',
  title: 'PACS web on pacs-01 is CRITICAL',
  checkName: 'PACS web',
  agentName: 'pacs-01',
  since,
  reason: 'timeout',
  summary: `no answer ${HOSTILE}`,
  url: 'https://rounds.example/checks/c-1',
  labels: { alertname: 'RoundsCheckFailing', site: HOSTILE },
};
const smtp = (template?: unknown) =>
  smtpConfigSchema.parse({ host: 'mail.example', from: 'rounds@hospital.example', to: ['it@hospital.example'], ...(template ? { template } : {}) });
const telegram = (template?: unknown) => telegramConfigSchema.parse({ botToken: '123:abc', chatId: 42, ...(template ? { template } : {}) });
const webhook = (template?: unknown) => webhookConfigSchema.parse({ url: 'https://hooks.example/x', ...(template ? { template } : {}) });

describe('message templates', () => {
  it('accepts the known placeholders, labels.<name> and sections over known names', () => {
    for (const name of Object.keys(PLACEHOLDERS)) assert.equal(templateProblem(`{{${name}}}`), undefined, name);
    assert.equal(
      templateProblem('{{#resolved}}ended {{endsAt}}{{/resolved}}{{^resolved}}since {{startsAt}}{{/resolved}} {{labels.site}} {{! a comment }}'),
      undefined,
    );
  });

  it('refuses an unknown placeholder (in a section too), listing the known ones', () => {
    const problem = templateProblem('{{#firing}}{{alert.nmae}}{{/firing}}');
    assert.match(
      problem ?? '',
      /^unknown placeholder \{\{alert\.nmae\}\}: use one of alert\.name, subject, title, kind, firing, resolved, severity, .* labels\.<name>$/,
    );
    assert.match(templateProblem('{{constructor}}') ?? '', /^unknown placeholder \{\{constructor\}\}/);
    assert.match(templateProblem('{{labels.bad-name}}') ?? '', /^unknown placeholder/);
  });

  it('refuses what would print unescaped or reach outside the template, and a broken template', () => {
    assert.equal(templateProblem('{{{summary}}}'), '{{{summary}}} and {{&summary}} print a value unescaped: write {{summary}}');
    assert.equal(templateProblem('{{& summary}}'), '{{{summary}}} and {{&summary}} print a value unescaped: write {{summary}}');
    assert.match(templateProblem('{{> other}}') ?? '', /^partials/);
    assert.match(templateProblem('{{=<% %>=}}') ?? '', /delimiter changes/);
    assert.match(templateProblem('{{#firing}}open') ?? '', /^is not a valid template: Unclosed section "firing"/);
  });

  it('a channel saved with an unknown placeholder is refused with the field path', () => {
    const v = validateChannelConfig('smtp', { host: 'm', from: 'a@b.example', to: ['c@d.example'], template: { subject: '{{title}}', body: 'x {{nope}}' } });
    assert.equal(v.ok, false);
    assert.deepEqual(!v.ok && v.errors.map((e) => e.field), ['config.template.body']);
    assert.equal(validateChannelConfig('alertmanager', { url: 'http://am:9093', template: { body: 'x' } }).ok, false, 'Alertmanager takes labels, not text');
  });

  it('without a template every channel sends what it sent before templates existed', () => {
    const mail = mailOf(smtp(), message, now);
    assert.equal(mail.subject, '[FIRING] PACS web on pacs-01 is CRITICAL');
    assert.equal(mail.text, textOf(message, now));
    assert.equal(mail.html, htmlOf(message, now));
    assert.equal(telegramRequest(telegram(), message, now).text, telegramHtmlOf(message, now));
    assert.equal(webhookBody(message, now).text, textOf(message, now));
  });

  it('HTML mail: values are HTML-escaped inside the markup the template wrote; the text part and subject stay text, on one line', () => {
    const mail = mailOf(
      smtp({
        subject: '{{severity}} at {{labels.site}}\r\nBcc: x@evil.example',
        body: 'Site: {{labels.site}}',
        html: '<p class="s">{{labels.site}}</p><a href="{{link}}">open</a>',
      }),
      message,
      now,
    );
    assert.equal(
      mail.html,
      '<p class="s">&lt;script&gt;alert(1)&lt;/script&gt; *_[`~]( &amp; &quot;quoted&quot; \\ &lt;/b&gt;&lt;a href=&quot;x&quot;&gt;</p><a href="https://rounds.example/checks/c-1">open</a>',
    );
    assert.equal(mail.text, `Site: ${HOSTILE}`);
    assert.ok(!/[\r\n]/.test(mail.subject), 'no header injection through a subject');
    assert.equal(mail.subject, `critical at ${HOSTILE} Bcc: x@evil.example`);
    const bodyOnly = mailOf(smtp({ body: '{{labels.site}}' }), message, now);
    assert.ok(!bodyOnly.html.includes('<script>'));
    assert.match(bodyOnly.html, /<pre [^>]*>&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it("Telegram: values are escaped for its HTML parse mode, so a label can neither close the author's tags nor add a link", () => {
    const text = telegramRequest(
      telegram({ subject: '{{labels.site}}', body: '<b>{{alert.name}}</b> {{labels.site}}\n<i>{{summary}}</i>' }),
      message,
      now,
    ).text;
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt; *_[`~]( &amp; "quoted" \\ &lt;/b&gt;&lt;a href="x"&gt;';
    assert.equal(
      text,
      `<b>${escaped.replace(/"/g, '&quot;')}</b>\n\n<b>RoundsCheckFailing</b> ${escaped.replace(/"/g, '&quot;')}\n<i>no answer ${escaped.replace(/"/g, '&quot;')}</i>`,
    );
    // The only tags left are the author's: b, i.
    assert.deepEqual([...new Set(text.match(/<\/?[a-z]+/g))], ['<b', '</b', '<i', '</i']);
  });

  it('webhook: the text is plain, the JSON stays valid and carries the value exactly', () => {
    const body = webhookBody(message, now, webhook({ subject: '{{kind}} {{labels.site}}', body: '"{{summary}}"' }).template);
    const parsed = JSON.parse(JSON.stringify(body)) as { text: string; labels: Record<string, string> };
    assert.equal(parsed.text, `firing ${HOSTILE}\n\n"no answer ${HOSTILE}"`);
    assert.equal(parsed.labels['site'], HOSTILE);
  });

  it('sections show what fits the notification, and a label the alert lacks prints nothing', () => {
    const t = webhook({
      body: '{{#resolved}}over after {{duration}}{{/resolved}}{{#firing}}for {{duration}}{{/firing}}|{{labels.missing}}|{{labels.constructor}}|',
    }).template;
    assert.equal(webhookBody(message, now, t).text.split('\n\n')[1], 'for 12 min|||');
    const resolved = { ...message, kind: 'resolved' as const, resolvedAt: since + 3_600_000 };
    assert.equal(webhookBody(resolved, now, t).text.split('\n\n')[1], 'over after 1 h|||');
  });

  it('previewOf() is what the notifier renders, per channel type', () => {
    const preview = previewOf({ type: 'webhook', config: webhook({ body: '{{summary}}' }) }, message, now);
    assert.deepEqual(preview, { type: 'webhook', body: webhookBody(message, now, { body: '{{summary}}' }) });
    const mail = previewOf({ type: 'smtp', config: smtp() }, message, now);
    assert.equal(mail.type === 'smtp' && mail.mail.messageId, mailOf(smtp(), message, now).messageId);
  });
});
