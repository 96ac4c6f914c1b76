import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatMatcher, matches, matchesAll, parseMatcher, type Matcher } from './matchers.js';

const m = (text: string): Matcher => {
  const parsed = parseMatcher(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

describe('matchers', () => {
  it('reads quoted and bare values with all four operators', () => {
    assert.deepEqual(parseMatcher('agent="pacs-01"'), { label: 'agent', op: '=', value: 'pacs-01' });
    assert.deepEqual(parseMatcher(' mount != /boot '), { label: 'mount', op: '!=', value: '/boot' });
    assert.deepEqual(parseMatcher('check=~"PACS .*"'), { label: 'check', op: '=~', value: 'PACS .*' });
    assert.deepEqual(parseMatcher('plugin!~http|tcp'), { label: 'plugin', op: '!~', value: 'http|tcp' });
    assert.deepEqual(parseMatcher('share="\\\\\\\\nas\\\\images"'), { label: 'share', op: '=', value: '\\\\nas\\images' });
    assert.deepEqual(parseMatcher('mount=""'), { label: 'mount', op: '=', value: '' });
  });

  it('writes a matcher back in a form it reads again', () => {
    for (const text of ['agent="pacs-01"', 'share="\\\\\\\\nas"', 'check=~"a\\"b"']) {
      assert.deepEqual(parseMatcher(formatMatcher(m(text))), m(text));
    }
  });

  const invalid: [string, string][] = [
    ['agent', '`agent` is not a matcher: write label="value", label!="value", label=~"regex" or label!~"regex"'],
    ['agent~pacs', '`agent~pacs` is not a matcher: write label="value", label!="value", label=~"regex" or label!~"regex"'],
    ['1agent="x"', '`1agent="x"` is not a matcher: write label="value", label!="value", label=~"regex" or label!~"regex"'],
    ['agent="pacs', '`agent="pacs` is not a matcher: its quoted value is not closed or has a bad escape'],
    ['agent=~"pacs-("', '`agent=~"pacs-("` is not a matcher: /pacs-(/ is not a valid regular expression (Unterminated group)'],
  ];
  for (const [text, message] of invalid) {
    it(`refuses ${text} saying what to write`, () => {
      assert.equal(parseMatcher(text), message);
    });
  }

  it('anchors regular expressions to the whole value', () => {
    assert.equal(matches(m('agent=~"pacs"'), { agent: 'pacs-01' }), false);
    assert.equal(matches(m('agent=~"pacs.*"'), { agent: 'pacs-01' }), true);
    assert.equal(matches(m('agent=~"a|pacs-01"'), { agent: 'pacs-01' }), true);
    assert.equal(matches(m('agent!~"pacs.*"'), { agent: 'nas-01' }), true);
  });

  it('reads an absent label as the empty string', () => {
    assert.equal(matches(m('mount!="/boot"'), {}), true);
    assert.equal(matches(m('mount=""'), {}), true);
    assert.equal(matches(m('mount="/"'), {}), false);
    assert.equal(matches(m('mount=~".*"'), {}), true);
  });

  it('needs every matcher to hold, and an empty list matches everything', () => {
    const labels = { agent: 'pacs-01', mount: '/data' };
    assert.equal(matchesAll([m('agent="pacs-01"'), m('mount!="/boot"')], labels), true);
    assert.equal(matchesAll([m('agent="pacs-01"'), m('mount="/boot"')], labels), false);
    assert.equal(matchesAll([], labels), true);
  });
});
