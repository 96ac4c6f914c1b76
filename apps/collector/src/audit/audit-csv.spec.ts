import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditCsv } from './audit-csv.js';
import { csvCell } from '../shared/csv.js';
import type { AuditEntry } from './audit.types.js';

describe('audit CSV', () => {
  it('quotes a cell with a comma, a double quote or a line break (RFC 4180), doubling quotes', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('cr\rlf'), '"cr\rlf"');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(42), '42');
  });

  it("prefixes a cell that would start a spreadsheet formula (= + - @, tab, CR) with ' and still quotes it when needed", () => {
    assert.equal(csvCell('=HYPERLINK("http://evil")'), `"'=HYPERLINK(""http://evil"")"`);
    assert.equal(csvCell('+1'), "'+1");
    assert.equal(csvCell('-2+3'), "'-2+3");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('\t=1'), "'\t=1");
    assert.equal(csvCell('a=b'), 'a=b');
    // Numbers are ours (ids), never a formula: a negative one would stay a number.
    assert.equal(csvCell(-1), '-1');
  });

  it('writes a header and one CRLF-terminated line per row, before/after as JSON and the time as ISO 8601', () => {
    const entry: AuditEntry = {
      id: 7,
      at: Date.UTC(2026, 11, 3, 8, 0, 0),
      actor: 'api-token',
      source: 'api',
      address: '10.0.4.7',
      userAgent: 'Mozilla/5.0 (X11, Linux)',
      action: 'channel.create',
      target: { kind: 'channel', id: 'c1', name: '=cmd|calc' },
      before: null,
      after: { name: '=cmd|calc', config: { password: '••••••' } },
      prevHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
    };
    assert.equal(
      auditCsv([entry]),
      'id,at,actor,source,address,user_agent,action,target_kind,target_id,target_name,before,after,prev_hash,hash\r\n' +
        `7,2026-12-03T08:00:00.000Z,api-token,api,10.0.4.7,"Mozilla/5.0 (X11, Linux)",channel.create,channel,c1,'=cmd|calc,,"{""name"":""=cmd|calc"",""config"":{""password"":""••••••""}}",${'a'.repeat(64)},${'b'.repeat(64)}\r\n`,
    );
  });
});
