import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { embeddedBinary } from '#rounds/common';
import { EX_UNAVAILABLE, SERVICE_NAME, ServiceError, type ServiceStep } from '../service/service-manager.js';
import { WRAPPER_BASENAME } from '../service/winsw.windows.js';

/** Where each program a service command runs comes from, for the refusal when it is missing. */
const PROGRAM_HINTS: Record<string, string> = {
  systemctl: 'this host does not run systemd — run `rounds-agent start --config …` under its own service manager',
  useradd: 'install the passwd package, or create the user yourself and pass it with --user',
  chown: 'install coreutils',
  'sc.exe': 'it is part of Windows (System32): run this on Windows',
  icacls: 'it is part of Windows (System32): run this on Windows',
  eventcreate: 'it is part of Windows (System32): run this on Windows',
  reg: 'it is part of Windows (System32): run this on Windows',
};

/** 0xC0000135: Windows could not start a program because a DLL it imports is missing. */
const STATUS_DLL_NOT_FOUND = 0xc0000135;
const DOTNET_HINT =
  ' — WinSW runs on the .NET Framework 4 (mscoree.dll), part of Windows 10, Server 2016 and later; on older Windows install .NET Framework 4.8 (under wine, wine-mono, which Debian does not package). What was done so far (the config, the wrapper’s files) is kept: run the same command again once it is there';
const SYSTEM_SID = '*S-1-5-18';
const ADMINISTRATORS_SID = '*S-1-5-32-544';

interface Ran {
  code: number;
  output: string;
}

/**
 * The host a service command changes: runs the steps a service platform planned (files,
 * commands) and answers the questions planning needs (elevated? installed? which systemd?).
 */
export class ServiceHost {
  constructor(private readonly platform: NodeJS.Platform = process.platform) {}

  /**
   * Root on Linux; on Windows an elevated administrator or SYSTEM: `fltmc` (the filter manager,
   * on every Windows) answers only them. `net session` does too, but needs the Server service,
   * which hardened hosts disable; it is the fallback where fltmc is missing (wine).
   */
  isElevated(): boolean {
    if (this.platform !== 'win32') return process.getuid?.() === 0;
    const fltmc = spawnSync('fltmc', [], { stdio: 'ignore', windowsHide: true });
    if (!fltmc.error) return fltmc.status === 0;
    return spawnSync('net', ['session'], { stdio: 'ignore', windowsHide: true }).status === 0;
  }

  exists(path: string): boolean {
    return existsSync(path);
  }

  realpath(path: string): string {
    return realpathSync(path);
  }

  /** The major version `systemctl --version` reports, or a refusal naming what to do when there is none. */
  systemdVersion(): number {
    const r = spawnSync('systemctl', ['--version'], { encoding: 'utf8' });
    if (r.error) throw missing('systemctl', r.error);
    const m = /^systemd (\d+)/.exec(r.stdout);
    if (!m)
      throw new ServiceError(
        `systemctl --version said ${JSON.stringify(r.stdout.split('\n')[0])}, not "systemd <version>": ${PROGRAM_HINTS['systemctl']}`,
        EX_UNAVAILABLE,
      );
    return Number(m[1]);
  }

  userExists(name: string): boolean {
    return spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
  }

  /** Whether Windows' service control manager knows the agent's service: `sc query` answers 0 only then (1060 on Windows, 1 under wine, when not). */
  windowsServiceInstalled(): boolean {
    const r = spawnSync('sc.exe', ['query', SERVICE_NAME], { stdio: 'ignore', windowsHide: true });
    if (r.error) throw missing('sc.exe', r.error);
    return r.status === 0;
  }

  /**
   * WinSW for a service whose program is `programFile`: 'present' when it is beside it already
   * (the MSI put it there), else its bytes — embedded in the single-file .exe, or from
   * node-windows when run from the package.
   */
  wrapperFor(programFile: string): Uint8Array | 'present' {
    if (existsSync(join(dirname(programFile), `${WRAPPER_BASENAME}.exe`))) return 'present';
    const embedded = embeddedBinary('winsw.exe');
    if (embedded) return embedded;
    const fromPackage = new URL('../../../../../scripts/windows-node/node_modules/node-windows/bin/winsw/winsw.exe', import.meta.url);
    if (existsSync(fromPackage)) return readFileSync(fromPackage);
    throw new ServiceError(
      `the service wrapper (WinSW) was not found: it is embedded in the single-file rounds-agent.exe (\`npm run build:agent\`) and installed by the MSI; ` +
        `from the package, run \`node scripts/windows-node/install.mjs\` once to fetch node-windows, which ships it`,
      EX_UNAVAILABLE,
    );
  }

  /** Makes a folder only SYSTEM/administrators (Windows) or root (Linux, 0700) can enter, before secrets are written into it. */
  async makePrivateDir(path: string): Promise<void> {
    // Also when it exists (an install log may be in it already): the key is written next.
    mkdirSync(path, { recursive: true, mode: 0o700 });
    if (this.platform === 'win32') await this.adminOnly(path, true);
    else chmodSync(path, 0o700);
  }

  /** Appends a line to the install log (`--log`), making its folder. */
  appendLog(path: string, line: string): void {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${line}\n`);
  }

  /** Writes a secret (the enrolment string) readable by administrators / root only. */
  async writeAdminOnly(path: string, content: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    if (this.platform === 'win32') {
      // The ACL first, on an empty file, so that the secret is never readable by anyone else.
      writeFileSync(path, '');
      await this.adminOnly(path, false).catch((e: unknown) => {
        rmSync(path, { force: true });
        throw e;
      });
      writeFileSync(path, content);
    } else {
      writeFileSync(path, content, { mode: 0o600 });
      chmodSync(path, 0o600);
    }
  }

  /** Runs `program args` to its end, capturing what it prints (init's enrolment string). */
  async capture(program: string, args: readonly string[]): Promise<Ran> {
    return this.exec(program, args);
  }

  /**
   * Carries out one step. A command that exits outside its `ok` codes is a refusal quoting what
   * it printed; a `show` step's output is returned for the caller to print, with its exit code.
   */
  async apply(step: ServiceStep): Promise<Ran | undefined> {
    switch (step.kind) {
      case 'mkdir':
        mkdirSync(step.path, { recursive: true, mode: 0o700 });
        return undefined;
      case 'write':
        mkdirSync(dirname(step.path), { recursive: true });
        writeFileSync(step.path, step.content, { mode: step.mode });
        if (this.platform !== 'win32') chmodSync(step.path, step.mode);
        return undefined;
      case 'remove':
        rmSync(step.path, { force: true });
        return undefined;
      case 'await-stop':
        await this.awaitStop(step.service, step.timeoutMs);
        return undefined;
      case 'run': {
        const ran = await this.exec(step.command, step.args);
        if (!(step.ok ?? [0]).includes(ran.code)) {
          const hint =
            ran.code === STATUS_DLL_NOT_FOUND
              ? `: ${basename(step.command)} could not load a DLL it needs${step.command.endsWith(`${WRAPPER_BASENAME}.exe`) ? DOTNET_HINT : ''}`
              : '';
          throw new ServiceError(
            `\`${[step.command, ...step.args].join(' ')}\` (${step.why}) failed with exit code ${ran.code}${hint}${ran.output.trim() ? `:\n${ran.output.trim()}` : ''}`,
          );
        }
        return ran;
      }
    }
  }

  /** Polls `sc query` until the service is STOPPED (state 1; the number is the same in every language) or gone (1060). */
  private async awaitStop(service: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const ran = await this.exec('sc.exe', ['query', service]);
      if (ran.code === 1060 || /STATE\s*:\s*1\b/.test(ran.output)) return;
      if (Date.now() > until)
        throw new ServiceError(`${service} did not stop within ${timeoutMs / 1000} s: end rounds-agent.exe in Task Manager, then run this again`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async adminOnly(path: string, folder: boolean): Promise<void> {
    const inherit = folder ? '(OI)(CI)' : '';
    const ran = await this.exec('icacls', [path, '/inheritance:r', '/grant:r', `${SYSTEM_SID}:${inherit}F`, `${ADMINISTRATORS_SID}:${inherit}F`]);
    if (ran.code !== 0) throw new ServiceError(`could not restrict ${path} to administrators (icacls exit ${ran.code}): ${ran.output.trim()}`);
  }

  private exec(command: string, args: readonly string[]): Promise<Ran> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      child.once('error', (e) => reject(missing(command, e)));
      child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('utf8') }));
    });
  }
}

function missing(command: string, e: Error): Error {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return e;
  return new ServiceError(`${command} was not found: ${PROGRAM_HINTS[command] ?? 'is the agent installed where it was?'}`, EX_UNAVAILABLE);
}
