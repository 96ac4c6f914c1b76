import { execFileSync } from 'node:child_process';
import { win32 } from 'node:path';

/** One access control entry as icacls prints it: `BUILTIN\Users:(I)(CI)(WD,AD,WEA,WA)`. */
export interface AccessEntry {
  principal: string;
  /** The parenthesised groups after the colon, each split at commas: [['I'], ['CI'], ['WD', 'AD', 'WEA', 'WA']]. */
  groups: string[][];
}

/** An ACE line's end: the principal, a colon and one or more `(…)` groups; principals hold spaces ("NT AUTHORITY\Authenticated Users"). */
const ACE = /^(.+?):((?:\([A-Z,]+\))+)$/;

/**
 * The access lists in icacls' output, by the paths asked about. icacls prints each object as its
 * path followed on the same line by its first entry, further entries indented below, and a blank
 * line or the "Successfully processed" summary after; a path may hold spaces, so each block is
 * matched against the paths the caller asked about (the longest that fits), not split at a space.
 * A path asked about that is missing from the output maps to nothing.
 */
export function parseIcacls(output: string, paths: readonly string[]): Map<string, AccessEntry[]> {
  const byLength = [...paths].sort((a, b) => b.length - a.length);
  const acls = new Map<string, AccessEntry[]>();
  let current: AccessEntry[] | undefined;
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.trim() === '' || /^Successfully processed \d+ files/.test(line.trim())) {
      current = undefined;
      continue;
    }
    const path = byLength.find((p) => line.toLowerCase().startsWith(`${p.toLowerCase()} `));
    const text = path === undefined ? line.trim() : line.slice(path.length + 1).trim();
    if (path !== undefined) {
      current = [];
      acls.set(path, current);
    }
    const m = ACE.exec(text);
    if (!current || !m) continue;
    current.push({ principal: m[1]!.trim(), groups: [...m[2]!.matchAll(/\(([A-Z,]+)\)/g)].map((g) => g[1]!.split(',')) });
  }
  return acls;
}

/**
 * Rights that let a principal change what the agent loads: full control, modify, write, delete
 * (F, M, W, D), and among the specific ones writing data or adding files and subfolders, deleting,
 * and rewriting the ACL or the owner (which give the rest).
 */
const WRITE_RIGHTS = new Set(['F', 'M', 'W', 'D', 'WD', 'AD', 'DE', 'DC', 'WDAC', 'WO', 'GA', 'GW', 'MA']);
/** Flags printed in the same parentheses as rights; (IO) is an entry for what gets created inside, not for the object itself. */
const FLAGS = new Set(['I', 'OI', 'CI', 'NP', 'IO', 'DENY']);

/**
 * Who may write besides these does not get to run code as the agent: the local system, the
 * administrators, TrustedInstaller — by their English names as icacls prints them, or as SIDs
 * when a name does not resolve — and the agent's own account (`whoami`).
 */
const TRUSTED = [
  'NT AUTHORITY\\SYSTEM',
  'BUILTIN\\Administrators',
  'NT SERVICE\\TrustedInstaller',
  'S-1-5-18',
  'S-1-5-32-544',
  'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464',
];

/** The write rights `entry` grants to the object itself; none for a deny entry or an inherit-only one. */
export function writeRightsOf(entry: AccessEntry): string[] {
  const all = entry.groups.flat();
  if (all.includes('DENY') || all.includes('IO')) return [];
  return all.filter((r) => !FLAGS.has(r) && WRITE_RIGHTS.has(r));
}

/**
 * Why `path` cannot be trusted given its access list, or undefined when it can: an entry that
 * lets someone other than {@link TRUSTED} or `agentAccount` write, modify or take it over.
 * An empty list is refused too: no list printed means nothing could be checked (wine's
 * icacls is a stub that prints nothing).
 */
export function aclProblem(path: string, acl: readonly AccessEntry[] | undefined, agentAccount: string): string | undefined {
  if (!acl || acl.length === 0) {
    return `who may write ${path} cannot be told: icacls printed no access list for it — check it with \`icacls "${path}"\`, or set plugins.checkWriters: false where icacls cannot answer`;
  }
  const trusted = new Set([...TRUSTED, agentAccount].map((p) => p.toLowerCase()));
  for (const entry of acl) {
    if (trusted.has(entry.principal.toLowerCase())) continue;
    const rights = writeRightsOf(entry);
    if (rights.length > 0) {
      return (
        `${path} can be written by ${entry.principal} (${rights.join(',')}) — ` +
        `run \`icacls "${path}" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX\` on the plugin folder, so that only SYSTEM and the administrators can write it`
      );
    }
  }
  return undefined;
}

/** What the Windows check runs; a seam for the specs, which have no Windows. */
export interface WindowsTools {
  /** `icacls <path>` (with `/T` for a whole tree): what it printed. */
  icacls(path: string, tree: boolean): string;
  /** `whoami`: the agent's account as icacls names principals, `DOMAIN\user`. */
  whoami(): string;
}

/** The tools of %SystemRoot%\System32 by their full paths, never looked up in the current folder or PATH. */
export function systemTools(systemRoot = 'C:\\Windows'): WindowsTools {
  const run = (exe: string, args: string[]) =>
    execFileSync(win32.join(systemRoot, 'System32', exe), args, { encoding: 'utf8', windowsHide: true, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return {
    // /C: go on past a file it cannot read (that file then has no list, and is refused).
    icacls: (path, tree) => run('icacls.exe', [path, ...(tree ? ['/T'] : []), '/C']),
    whoami: () => run('whoami.exe', []).trim(),
  };
}

/**
 * Why any of `paths` (the plugin's tree, `root` first) cannot be trusted on Windows, or undefined:
 * one icacls run over the tree, each path's list checked by {@link aclProblem}.
 */
export function windowsWritersProblem(root: string, paths: readonly string[], tree: boolean, tools: WindowsTools): string | undefined {
  let output: string;
  let account: string;
  try {
    account = tools.whoami();
    output = tools.icacls(root, tree);
  } catch (e) {
    return `who may write ${root} cannot be told: ${(e as Error).message.split('\n')[0]}`;
  }
  const acls = parseIcacls(output, paths);
  for (const path of paths) {
    const problem = aclProblem(path, acls.get(path), account);
    if (problem) return problem;
  }
  return undefined;
}
