import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkUrl, formatDuration, htmlOf, subjectOf, telegramHtmlOf, textOf, type NotificationMessage } from './message.js';

const since = Date.parse('2026-11-20T13:03:00Z');
const message: NotificationMessage = {
  key: 'k',
  kind: 'firing',
  severity: 'critical',
  title: 'PACS web is CRITICAL',
  checkName: 'PACS web',
  agentName: 'pacs-01',
  since,
  reason: 'timeout',
  summary: 'no answer within 10 s',
  url: 'https://rounds.example/checks/c-1',
  labels: {},
};

describe('notification rendering', () => {
  it('textOf() says what, where, since when (and for how long), the reason, the summary and links to the check', () => {
    const text = textOf(message, since + 12 * 60_000);
    const lines = text.split('\n');
    assert.equal(lines[0], '[FIRING] PACS web is CRITICAL');
    assert.equal(lines[1], '');
    assert.deepEqual(
      lines.slice(2).map((l) => l.slice(0, l.indexOf(':'))),
      ['What', 'Check', 'Where', 'Severity', 'Since', 'Reason', 'Summary', 'Open'],
    );
    assert.match(text, /^Where: agent pacs-01$/m);
    assert.match(text, /^Severity: CRITICAL$/m);
    assert.match(text, /^Since: 2026-11-20 \d\d:03:00 [+-]\d\d:\d\d \(12 min ago\)$/m);
    assert.match(text, /^Reason: timeout$/m);
    assert.match(text, /^Summary: no answer within 10 s$/m);
    assert.match(text, /^Open: https:\/\/rounds\.example\/checks\/c-1$/m);
  });

  it('a resolved notification says from when until when and how long it lasted', () => {
    const text = textOf({ ...message, kind: 'resolved', resolvedAt: since + 3 * 3_600_000 + 5 * 60_000 }, since + 4 * 3_600_000);
    assert.match(text, /^\[RESOLVED\] /);
    assert.match(text, /^Since: .* until .* \(3 h 5 min\)$/m);
  });

  it('subjects name reminders and tests, and a message without link, check or agent leaves those lines out', () => {
    assert.equal(subjectOf({ ...message, kind: 'reminder' }), '[STILL FIRING] PACS web is CRITICAL');
    assert.equal(subjectOf({ ...message, kind: 'test', title: 'line one\nline two' }), '[TEST] line one line two');
    const bare = textOf({ ...message, url: undefined, checkName: undefined, agentName: undefined }, since);
    assert.doesNotMatch(bare, /^(Open|Check|Where):/m);
  });

  it('HTML and Telegram renderings escape what came from checks and agents', () => {
    const hostile = { ...message, title: '<script>x</script>', summary: 'a & b < c', url: 'https://x.example/?a="1"&b=2' };
    const html = htmlOf(hostile, since);
    assert.ok(!html.includes('<script>'));
    assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
    assert.match(html, /a &amp; b &lt; c/);
    assert.match(html, /href="https:\/\/x\.example\/\?a=&quot;1&quot;&amp;b=2"/);
    const tg = telegramHtmlOf(hostile, since);
    assert.ok(!tg.includes('<script>'));
    assert.match(tg, /<b>Summary:<\/b> a &amp; b &lt; c/);
  });

  it('checkUrl() links into the UI only when a public URL is configured', () => {
    assert.equal(checkUrl('https://rounds.example/', 'c 1'), 'https://rounds.example/checks/c%201');
    assert.equal(checkUrl('https://h.example/rounds', 'c1'), 'https://h.example/rounds/checks/c1');
    assert.equal(checkUrl(undefined, 'c1'), undefined);
  });

  it('formatDuration() reads like a person would say it', () => {
    assert.deepEqual([0, 45_000, 60_000, 12 * 60_000, 3_600_000, 3_900_000, 86_400_000, 100_800_000].map(formatDuration), [
      '0 s',
      '45 s',
      '1 min',
      '12 min',
      '1 h',
      '1 h 5 min',
      '1 d',
      '1 d 4 h',
    ]);
  });
});
