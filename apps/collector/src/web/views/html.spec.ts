import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, html, SafeHtml, trusted } from './html.js';

describe('escapeHtml', () => {
  it('escapes the five characters that can end text or an attribute value', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&amp;</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('leaves other text, including non-ASCII, as it is', () => {
    assert.equal(escapeHtml('Réception — 5 min ago, 100% OK'), 'Réception — 5 min ago, 100% OK');
  });
});

describe('html', () => {
  it('escapes an interpolated script tag', () => {
    const summary = '<script>alert(1)</script>';
    assert.equal(html`<td>${summary}</td>`.value, '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
  });

  it('escapes quotes so a value cannot leave its attribute', () => {
    const id = `x" onmouseover="alert(1)`;
    const name = `x' onfocus='alert(1)`;
    assert.equal(
      html`<tr data-check="${id}" title='${name}'>`.value,
      `<tr data-check="x&quot; onmouseover=&quot;alert(1)" title='x&#39; onfocus=&#39;alert(1)'>`,
    );
  });

  it('keeps markup built with html when it is nested, and escapes only the values inside it', () => {
    const badge = (status: string) => html`<span class="badge ${status}">${status}</span>`;
    assert.equal(html`<td>${badge('OK<b>')}</td>`.value, '<td><span class="badge OK&lt;b&gt;">OK&lt;b&gt;</span></td>');
  });

  it('joins arrays without separators, escaping strings and keeping nested html, at any depth', () => {
    const rows = ['<a>', html`<b>`, ['&', [html`<i>`, 1]]];
    assert.equal(html`<ul>${rows}</ul>`.value, '<ul>&lt;a&gt;<b>&amp;<i>1</ul>');
  });

  it('renders null, undefined and false as nothing, but 0 and true as text', () => {
    assert.equal(html`[${null}|${undefined}|${false}|${0}|${true}|${''}]`.value, '[|||0|true|]');
  });

  it('returns SafeHtml whose string form is the markup', () => {
    const out = html`<p>${'a&b'}</p>`;
    assert.ok(out instanceof SafeHtml);
    assert.equal(String(out), '<p>a&amp;b</p>');
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- interpolating SafeHtml is what this checks
    assert.equal(`${out}`, '<p>a&amp;b</p>');
  });

  it('does not escape the literal parts of the template, only the values', () => {
    assert.equal(html`<p class="x">'"&</p>`.value, `<p class="x">'"&</p>`);
  });

  it('trusted() marks a constant as markup so it is not escaped', () => {
    assert.equal(html`<style>${trusted('a>b{color:red}')}</style>`.value, '<style>a>b{color:red}</style>');
    assert.equal(html`<style>${'a>b{color:red}'}</style>`.value, '<style>a&gt;b{color:red}</style>');
  });
});
