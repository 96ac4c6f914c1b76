import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { aclProblem, parseIcacls, windowsWritersProblem, writeRightsOf, type WindowsTools } from './plugin-writers.windows.js';

/** This file runs as dist/apps/agent/src/repositories/…; the fixtures (real Windows outputs, see their README) live under the repo root. */
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const captured = (name: string) => readFileSync(`${repoRoot}test/fixtures/icacls/${name}.txt`, 'utf8');
const AGENT = 'CT-GATEWAY\\rounds-agent';

/** The access list icacls printed for `path` in fixture `name`, then the verdict on it. */
function verdict(name: string, path: string, agent = AGENT): string | undefined {
  const acls = parseIcacls(captured(name), [path]);
  assert.ok(acls.get(path)?.length, `no list for ${path} in ${name}`);
  return aclProblem(path, acls.get(path), agent);
}

describe('parseIcacls on outputs of real Windows machines', () => {
  it('reads every entry of a file, principals with spaces and all, and nothing of the summary line', () => {
    const path = 'C:\\WINDOWS\\system32\\mmc.exe';
    const acl = parseIcacls(captured('system32-mmc'), [path]).get(path);
    assert.deepEqual(
      acl?.map((e) => `${e.principal}=${e.groups.map((g) => g.join(',')).join('|')}`),
      [
        'NT SERVICE\\TrustedInstaller=F',
        'BUILTIN\\Administrators=RX',
        'NT AUTHORITY\\SYSTEM=RX',
        'BUILTIN\\Users=RX',
        'APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES=RX',
        'APPLICATION PACKAGE AUTHORITY\\ALL RESTRICTED APPLICATION PACKAGES=RX',
      ],
    );
  });

  it('finds a path that holds spaces by the path asked about, and splits inheritance flags from a list of specific rights', () => {
    const path = 'C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup';
    const acl = parseIcacls(captured('startup-users-full'), [path]).get(path)!;
    assert.equal(acl.length, 6);
    assert.deepEqual(acl[0], { principal: 'BUILTIN\\Users', groups: [['F']] });
    assert.deepEqual(acl[1], { principal: 'TCM-PC\\TCM', groups: [['I'], ['OI'], ['CI'], ['DE', 'DC']] });
  });

  it('keeps the objects of a /T listing apart, matching each block to the longest path asked about', () => {
    // The layout of `icacls C:\plugins /T`: one block per object, a blank line between them.
    const output = [
      'C:\\plugins NT AUTHORITY\\SYSTEM:(OI)(CI)(F)',
      '           BUILTIN\\Administrators:(OI)(CI)(F)',
      '',
      'C:\\plugins\\ups status.mjs NT AUTHORITY\\SYSTEM:(I)(F)',
      '                         BUILTIN\\Users:(M)',
      '',
      'Successfully processed 2 files; Failed processing 0 files',
    ].join('\r\n');
    const acls = parseIcacls(output, ['C:\\plugins', 'C:\\plugins\\ups status.mjs']);
    assert.deepEqual(
      acls.get('C:\\plugins')?.map((e) => e.principal),
      ['NT AUTHORITY\\SYSTEM', 'BUILTIN\\Administrators'],
    );
    assert.deepEqual(
      acls.get('C:\\plugins\\ups status.mjs')?.map((e) => e.principal),
      ['NT AUTHORITY\\SYSTEM', 'BUILTIN\\Users'],
    );
  });

  it("maps nothing to a path when icacls printed nothing (wine's stub)", () => {
    assert.equal(parseIcacls('', ['C:\\plugins']).size, 0);
  });
});

describe('writeRightsOf', () => {
  it('counts full control, modify, write and the specific rights that add, delete or take over, not read, execute or attributes', () => {
    const rights = (groups: string[][]) => writeRightsOf({ principal: 'X', groups });
    assert.deepEqual(rights([['F']]), ['F']);
    assert.deepEqual(rights([['I'], ['M']]), ['M']);
    assert.deepEqual(rights([['I'], ['CI'], ['WD', 'AD', 'WEA', 'WA']]), ['WD', 'AD']);
    assert.deepEqual(rights([['WDAC']]), ['WDAC']);
    assert.deepEqual(rights([['RX']]), []);
    assert.deepEqual(rights([['S', 'RD', 'X', 'RA']]), []);
  });

  it('ignores a deny entry and an inherit-only one (it applies to what is created inside, which is checked on its own)', () => {
    assert.deepEqual(writeRightsOf({ principal: 'Everyone', groups: [['DENY'], ['W']] }), []);
    assert.deepEqual(writeRightsOf({ principal: 'CREATOR OWNER', groups: [['I'], ['OI'], ['CI'], ['IO'], ['F']] }), []);
  });
});

describe('aclProblem: who may write a plugin on Windows', () => {
  it('trusts a folder only SYSTEM and the administrators can write, with CREATOR OWNER as an inherit-only entry', () => {
    assert.equal(verdict('admins-only', 'F:\\Website'), undefined);
  });

  it('trusts a file TrustedInstaller owns with full control and others read', () => {
    assert.equal(verdict('system32-mmc', 'C:\\WINDOWS\\system32\\mmc.exe'), undefined);
  });

  it('refuses a folder made in C:\\ (Users may add files and subfolders), naming the folder, the principal and the right', () => {
    assert.equal(
      verdict('c-root-inherited', 'c:\\MyPrograms'),
      'c:\\MyPrograms can be written by BUILTIN\\Users (AD) — run `icacls "c:\\MyPrograms" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX` ' +
        'on the plugin folder, so that only SYSTEM and the administrators can write it',
    );
  });

  it('refuses a folder made in C:\\ProgramData, which inherits Users: write data and add subfolders', () => {
    assert.match(verdict('programdata-inherited', 'unifi-video')!, /^unifi-video can be written by BUILTIN\\Users \(WD,AD\) — /);
  });

  it('refuses a folder where Users have full control', () => {
    assert.match(
      verdict('startup-users-full', 'C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup')!,
      /^C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup can be written by BUILTIN\\Users \(F\) — /,
    );
  });

  it("trusts the agent's own account, as whoami names it, with the rights any other user is refused for", () => {
    const acl = [
      { principal: 'NT AUTHORITY\\SYSTEM', groups: [['F']] },
      { principal: 'ct-gateway\\Rounds-Agent', groups: [['M']] },
    ];
    assert.equal(aclProblem('C:\\plugins\\ups.mjs', acl, AGENT), undefined);
    assert.match(aclProblem('C:\\plugins\\ups.mjs', acl, 'CT-GATEWAY\\someone-else')!, /can be written by ct-gateway\\Rounds-Agent \(M\)/);
  });

  it('refuses a path with no access list, saying it cannot be told and how to look', () => {
    assert.equal(
      aclProblem('C:\\plugins', undefined, AGENT),
      'who may write C:\\plugins cannot be told: icacls printed no access list for it — check it with `icacls "C:\\plugins"`, ' +
        'or set plugins.checkWriters: false where icacls cannot answer',
    );
  });
});

describe('windowsWritersProblem', () => {
  const tools = (output: string, calls: string[] = []): WindowsTools => ({
    icacls: (path, tree) => (calls.push(`icacls ${path}${tree ? ' /T' : ''}`), output),
    whoami: () => AGENT,
  });

  it('runs icacls once over a tree and names the first file in it someone else may write', () => {
    const calls: string[] = [];
    const output = [
      'C:\\plugins\\ups NT AUTHORITY\\SYSTEM:(OI)(CI)(F)',
      '',
      'C:\\plugins\\ups\\index.js NT AUTHORITY\\SYSTEM:(I)(F)',
      '',
      'C:\\plugins\\ups\\lib.js NT AUTHORITY\\Authenticated Users:(M)',
      '',
      'Successfully processed 3 files; Failed processing 0 files',
    ].join('\r\n');
    const problem = windowsWritersProblem(
      'C:\\plugins\\ups',
      ['C:\\plugins\\ups', 'C:\\plugins\\ups\\index.js', 'C:\\plugins\\ups\\lib.js'],
      true,
      tools(output, calls),
    );
    assert.deepEqual(calls, ['icacls C:\\plugins\\ups /T']);
    assert.match(problem!, /^C:\\plugins\\ups\\lib\.js can be written by NT AUTHORITY\\Authenticated Users \(M\) — /);
  });

  it('refuses the tree when icacls fails, with its first line', () => {
    const failing: WindowsTools = {
      icacls: () => {
        throw new Error('Command failed: icacls.exe\nC:\\plugins: Access is denied.');
      },
      whoami: () => AGENT,
    };
    assert.equal(windowsWritersProblem('C:\\plugins', ['C:\\plugins'], false, failing), 'who may write C:\\plugins cannot be told: Command failed: icacls.exe');
  });
});
