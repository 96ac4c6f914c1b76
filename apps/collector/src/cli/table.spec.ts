import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { table, terminalJson, terminalSafe } from './table.js';

describe('terminal output', () => {
  it('aligns rows under their header, leaving the last column unpadded', () => {
    assert.deepEqual(
      table([
        ['NAME', 'STATE', 'LAST ERROR'],
        ['pacs-01', 'UP', ''],
        ['ward-pc-12', 'DOWN', 'refused'],
      ]),
      ['NAME        STATE  LAST ERROR', 'pacs-01     UP     ', 'ward-pc-12  DOWN   refused'],
    );
  });

  it('shows control characters from the collector as escapes instead of letting the terminal obey them', () => {
    // An agent's summary that would clear the screen and set the window title.
    const summary = 'OK\u001b[2J\u001b]0;pwned\u0007 done\u009b31m\ttab\nline';
    assert.equal(terminalSafe(summary), 'OK\\x1b[2J\\x1b]0;pwned\\x07 done\\x9b31m\ttab\nline');
    assert.equal(terminalJson({ summary }), '{\n  "summary": "OK\\u001b[2J\\u001b]0;pwned\\u0007 done\\u009b31m\\ttab\\nline"\n}');
    assert.deepEqual(JSON.parse(terminalJson({ summary })), { summary });
  });
});
