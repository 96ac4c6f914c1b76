import { basename, posix, resolve, win32 } from 'node:path';
import { isSingleFileBuild } from '#rounds/common';
import { loadAgentConfig } from '../config/agent-config.js';
import type { AgentEnv } from '../config/env.js';
import { ServiceHost } from '../repositories/service-host.repository.js';
import { initArgs, redactedInitArgs } from '../service/init-command.js';
import {
  EX_NOPERM,
  EX_UNAVAILABLE,
  EX_USAGE,
  SERVICE_COMMANDS,
  SERVICE_NAME,
  ServiceError,
  describeSteps,
  needsElevation,
  type AgentProgram,
  type InstallTarget,
  type ServiceCommand,
  type ServicePlatform,
} from '../service/service-manager.js';
import { SystemdPlatform, UNIT_PATH } from '../service/systemd.linux.js';
import { WinswPlatform, windowsQuote } from '../service/winsw.windows.js';

export interface ServiceOptions {
  command: string | undefined;
  /** Also append what is printed (never the enrolment string) to this file: the MSI's custom action has no console. */
  logFile?: string;
  configPath?: string;
  listen?: string;
  siteKey?: string;
  spoolDir?: string;
  enrolmentFile?: string;
  user?: string;
  noStart: boolean;
  dryRun: boolean;
}

const LIST = `${SERVICE_COMMANDS.slice(0, -1).join(', ')} or ${SERVICE_COMMANDS.at(-1)}`;

/** The command word after `service`, or a refusal saying which ones there are. */
export function serviceCommandOf(word: string | undefined): ServiceCommand {
  if (word === undefined) throw new ServiceError(`service needs a command: ${LIST} (e.g. \`rounds-agent service install --config <agent.yaml>\`)`, EX_USAGE);
  if (!(SERVICE_COMMANDS as readonly string[]).includes(word)) {
    throw new ServiceError(`unknown service command "${word}": use ${LIST}`, EX_USAGE);
  }
  return word as ServiceCommand;
}

/** How this agent was started: the single-file executable, or node running the package's script. */
function currentProgram(host: ServiceHost): AgentProgram {
  if (isSingleFileBuild()) return { executable: process.execPath, leadingArgs: [], programFile: process.execPath };
  const script = process.argv[1];
  if (!script || !host.exists(script)) {
    throw new ServiceError(
      `the agent's script ${script ?? '(none)'} was not found: run \`service\` as \`node <rounds>/bin/rounds-agent.js service …\``,
      EX_UNAVAILABLE,
    );
  }
  const file = host.realpath(script);
  return { executable: process.execPath, leadingArgs: [file], programFile: file };
}

/** A line printed by a service command; a secret one (the enrolment string) is never written to the install log. */
export type ServiceOutput = (line: string, secret?: boolean) => void;

/**
 * `rounds-agent service <command>` as the CLI runs it: prints what it does, and a refusal as one
 * line (`rounds-agent: …`, its exit code 64, 69 or 77); with `logFile` both go to that file too.
 */
export async function runServiceCommand(o: ServiceOptions, env: AgentEnv, print: (line: string) => void, printError: (line: string) => void): Promise<number> {
  const host = new ServiceHost();
  const log = (line: string) => {
    if (o.logFile) host.appendLog(resolve(o.logFile), `${new Date().toISOString()} ${line}`);
  };
  log(`rounds-agent service ${o.command ?? ''}`.trimEnd());
  try {
    const code = await serviceCommand(o, env, (line, secret) => {
      print(line);
      if (!secret) log(line);
    });
    log(`exit ${code}`);
    return code;
  } catch (e) {
    if (!(e instanceof ServiceError)) {
      log(`failed: ${(e as Error).message}`);
      throw e;
    }
    printError(`rounds-agent: ${e.message}`);
    log(`failed (exit ${e.exitCode}): ${e.message}`);
    return e.exitCode;
  }
}

/** `rounds-agent service <command>`: prints what it does (or would do, with --dry-run) and returns the exit code. */
export async function serviceCommand(o: ServiceOptions, env: AgentEnv, out: ServiceOutput): Promise<number> {
  const command = serviceCommandOf(o.command);
  const platform = process.platform;
  if (platform !== 'linux' && platform !== 'win32') {
    throw new ServiceError(
      `service supports Linux (systemd) and Windows, not ${platform}: run \`rounds-agent start --config …\` under this system's service manager`,
      EX_UNAVAILABLE,
    );
  }
  const windows = platform === 'win32';
  if (command !== 'install') {
    for (const [flag, given] of [
      ['--listen', o.listen],
      ['--site-key', o.siteKey],
      ['--spool-dir', o.spoolDir],
      ['--enrolment-file', o.enrolmentFile],
      ['--user', o.user],
      ['--no-start', o.noStart || undefined],
    ] as const) {
      if (given !== undefined) throw new ServiceError(`${flag} belongs to \`service install\`, not \`service ${command}\``, EX_USAGE);
    }
  }
  if (windows && o.user !== undefined) {
    throw new ServiceError(`--user is for Linux: on Windows the service runs as its own virtual account, NT SERVICE\\${SERVICE_NAME}`, EX_USAGE);
  }
  const host = new ServiceHost(platform);
  if (needsElevation(command) && !o.dryRun && !host.isElevated()) {
    throw new ServiceError(
      windows
        ? `service ${command} changes Windows' services and must run as an administrator: open PowerShell or a command prompt with "Run as administrator" and run it again`
        : `service ${command} changes systemd's units and must run as root: \`sudo rounds-agent service ${command} …\``,
      EX_NOPERM,
    );
  }
  const service = serviceFor(host, env, command, o.user);

  if (command !== 'install') {
    const steps = service[command]();
    return carryOut(host, steps, o.dryRun, out, command === 'uninstall' ? leftInPlace(windows) : []);
  }

  const folders = env.windowsFolders;
  const defaultConfig = windows ? win32.join(WinswPlatform.dataDir(folders?.programData ?? 'C:\\ProgramData'), 'agent.yaml') : '/etc/rounds/agent.yaml';
  const configPath = resolve(o.configPath ?? env.configPath ?? defaultConfig);
  const program = currentProgram(host);
  const path = windows ? win32 : posix;
  let target: InstallTarget;
  const lines: string[] = [];
  if (host.exists(configPath)) {
    if (o.listen !== undefined || o.siteKey !== undefined || o.spoolDir !== undefined) {
      out(
        `${configPath} exists: using it (--listen, --site-key and --spool-dir only make a new one; remove it first to start afresh — its token and certificate stop working)`,
      );
    }
    const config = loadAgentConfig(configPath, { logLevel: 'log' });
    target = { program, configPath, spoolDir: config.spoolDir, tlsFiles: [config.tlsCertPath, config.tlsKeyPath], start: !o.noStart };
  } else {
    if (!o.listen) {
      throw new ServiceError(
        `there is no agent config at ${configPath}: pass --listen host:port (and --site-key when your collector wants one) to create it now, or run \`rounds-agent init --config ${configPath} --listen host:port\` first`,
        EX_USAGE,
      );
    }
    const init = { listen: o.listen, configPath, siteKey: o.siteKey, spoolDir: o.spoolDir };
    const stem = basename(configPath).replace(/\.(ya?ml|json)$/i, '');
    const dir = path.dirname(configPath);
    target = {
      program,
      configPath,
      spoolDir: o.spoolDir ? resolve(o.spoolDir) : path.join(dir, 'spool'),
      tlsFiles: [path.join(dir, `${stem}.crt`), path.join(dir, `${stem}.key`)],
      start: !o.noStart,
    };
    // Planned before init runs, so that a refusal (a path the service cannot use) leaves nothing behind.
    const steps = service.install(target);
    const shown = [program.executable, ...program.leadingArgs, ...redactedInitArgs(init)].join(' ');
    if (o.dryRun) {
      out(`would create the config first: ${shown}${o.enrolmentFile ? ` (enrolment string to ${o.enrolmentFile}, administrators only)` : ''}`);
      return carryOut(host, steps, true, out, []);
    }
    out(`creating the config: ${shown}`);
    await host.makePrivateDir(dir);
    const ran = await host.capture(program.executable, [...program.leadingArgs, ...initArgs(init)]);
    const printed = ran.output.trim().split(/\r?\n/);
    const enrolment = printed.at(-1) ?? '';
    if (ran.code !== 0 || !enrolment.startsWith('rounds://')) {
      throw new ServiceError(`rounds-agent init failed (exit ${ran.code}):\n${ran.output.trim()}`);
    }
    if (o.enrolmentFile) {
      const file = resolve(o.enrolmentFile);
      await host.writeAdminOnly(file, `${enrolment}\n`);
      lines.push(
        `the enrolment string (it holds the token) is in ${file}, readable by ${windows ? 'administrators' : 'root'} only: paste it into the collector, then delete the file`,
      );
    } else {
      // Now, not at the end: should a later step fail, the token in the new config is still known.
      out('enrolment string (contains the token — shown only now):', true);
      out(enrolment, true);
    }
  }
  const steps = service.install(target);
  const next = windows
    ? [`installed: logs in ${win32.join(win32.dirname(configPath), 'logs')}, errors in the Application event log (source ${SERVICE_NAME})`]
    : [`installed: ${UNIT_PATH}; logs with \`journalctl -u ${SERVICE_NAME}\``];
  return carryOut(host, steps, o.dryRun, out, [...next, ...lines]);
}

function serviceFor(host: ServiceHost, env: AgentEnv, command: ServiceCommand, user?: string): ServicePlatform {
  if (process.platform === 'win32') {
    const folders = env.windowsFolders;
    if (!folders || folders.programFiles.length === 0) {
      throw new ServiceError('%ProgramData% or %ProgramFiles% is not set: run this in a normal Windows session', EX_UNAVAILABLE);
    }
    return new WinswPlatform({
      programData: folders.programData,
      programFiles: folders.programFiles,
      installed: host.windowsServiceInstalled(),
      // Looked for only to install: the other commands go through sc.exe.
      wrapper: command === 'install' ? host.wrapperFor(currentProgram(host).programFile) : 'present',
    });
  }
  return new SystemdPlatform(
    { systemdVersion: host.systemdVersion(), userExists: host.userExists(user ?? 'rounds'), unitInstalled: host.exists(UNIT_PATH) },
    user,
  );
}

const leftInPlace = (windows: boolean): string[] => [
  windows
    ? 'removed the service; the config, spool and logs stay (%ProgramData%\\Rounds) — delete that folder to remove its token and key too'
    : 'removed the service; the config (/etc/rounds), the spool and the user stay — delete them (`userdel rounds`) to remove the token and key too',
];

async function carryOut(
  host: ServiceHost,
  steps: ReturnType<ServicePlatform['install']>,
  dryRun: boolean,
  out: (line: string) => void,
  after: string[],
): Promise<number> {
  if (dryRun) {
    out('would do (--dry-run: nothing changed):');
    for (const line of describeSteps(steps, process.platform === 'win32' ? windowsQuote : undefined)) out(line);
    return 0;
  }
  let code = 0;
  for (const step of steps) {
    const ran = await host.apply(step);
    if (step.kind === 'run' && step.show && ran) {
      out(ran.output.replace(/\s+$/, ''));
      code = ran.code;
    }
  }
  for (const line of after) out(line);
  return code;
}
