/**
 * `rounds-agent service install|uninstall|start|stop|status`: one interface, one implementation
 * per service manager (systemd.linux.ts, winsw.windows.ts). An implementation only *plans*: it
 * turns what is known about the host into steps (files to write, commands to run), so that
 * `--dry-run` prints exactly what would happen and specs check Windows plans on Linux. The
 * service-host repository carries the steps out.
 */

export const SERVICE_COMMANDS = ['install', 'uninstall', 'start', 'stop', 'status'] as const;
export type ServiceCommand = (typeof SERVICE_COMMANDS)[number];

/** The service's name in systemd and in the Windows service control manager (one agent per host). */
export const SERVICE_NAME = 'rounds-agent';

/** One thing a service command does, in order. `why` is printed beside it by --dry-run. */
export type ServiceStep =
  | { kind: 'mkdir'; path: string; why: string }
  | { kind: 'write'; path: string; content: string | Uint8Array; mode: number; why: string }
  | { kind: 'remove'; path: string; why: string }
  /** Windows: sc.exe returns before the service has stopped; this waits until it has (or is gone). */
  | { kind: 'await-stop'; service: string; timeoutMs: number; why: string }
  /**
   * A command to run. Its exit code must be one of `ok` (default [0]); with `show` its output is
   * the command's answer (status) and is printed as it is, and its exit code becomes ours.
   */
  | { kind: 'run'; command: string; args: readonly string[]; why: string; ok?: readonly number[]; show?: boolean };

/** How the agent is run: the single-file executable alone, or node with the package's script. */
export interface AgentProgram {
  /** The file the service manager starts (the single-file agent, or node). */
  executable: string;
  /** Arguments before the agent's own (the script, when run from the package). */
  leadingArgs: readonly string[];
  /** The agent's program file: the single-file executable or bin/rounds-agent.js. */
  programFile: string;
}

/** What `service install` needs to know about this host, gathered by the CLI before planning. */
export interface InstallTarget {
  program: AgentProgram;
  /** Absolute path of the agent's config file. */
  configPath: string;
  /** Absolute paths the config names, which the service account must reach. */
  spoolDir: string;
  tlsFiles: readonly string[];
  /** Start the service once installed (the default); `--no-start` only registers it. */
  start: boolean;
}

/**
 * A refusal a person can act on: what is wrong and what to do. The CLI prints the message
 * alone (no stack) and exits with `exitCode` — 64 (EX_USAGE) for a wrong invocation, 77
 * (EX_NOPERM) when elevation is missing, 69 (EX_UNAVAILABLE) when a program is not there.
 */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
export const EX_USAGE = 64;
export const EX_UNAVAILABLE = 69;
export const EX_NOPERM = 77;

/** A service manager: plans each command; the caller runs the steps. */
export interface ServicePlatform {
  /** "systemd" or "WinSW", for messages. */
  readonly manager: string;
  install(target: InstallTarget): ServiceStep[];
  uninstall(): ServiceStep[];
  start(): ServiceStep[];
  stop(): ServiceStep[];
  status(): ServiceStep[];
}

/** Whether a command changes the system (and so needs root or an administrator). */
export const needsElevation = (command: ServiceCommand): boolean => command !== 'status';

/** Paths must be plain text: a newline or control character in one would split a unit or XML file. */
export function assertPrintable(what: string, value: string): void {
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new ServiceError(`${what} ${JSON.stringify(value)} contains a control character: use a path without one`, EX_USAGE);
  }
}

/** The steps as --dry-run prints them: one numbered line each, files shown in full (text) or by size; `quote` quotes arguments as this system's shell reads them. */
export function describeSteps(steps: readonly ServiceStep[], quote: (arg: string) => string = shellQuote): string[] {
  const lines: string[] = [];
  steps.forEach((step, i) => {
    const n = `${i + 1}.`;
    switch (step.kind) {
      case 'mkdir':
        lines.push(`${n} create folder ${step.path} — ${step.why}`);
        break;
      case 'remove':
        lines.push(`${n} remove ${step.path} — ${step.why}`);
        break;
      case 'await-stop':
        lines.push(`${n} wait up to ${step.timeoutMs / 1000} s for ${step.service} to stop — ${step.why}`);
        break;
      case 'run':
        lines.push(`${n} run: ${[step.command, ...step.args].map(quote).join(' ')} — ${step.why}`);
        break;
      case 'write':
        if (typeof step.content === 'string') {
          lines.push(`${n} write ${step.path} (mode ${step.mode.toString(8).padStart(4, '0')}) — ${step.why}:`);
          for (const line of step.content.replace(/\r?\n$/, '').split(/\r?\n/)) lines.push(`     | ${line}`);
        } else {
          lines.push(`${n} write ${step.path} (${step.content.byteLength} bytes) — ${step.why}`);
        }
        break;
    }
  });
  return lines;
}

/** POSIX shell quoting: a plain word as it is, anything else in single quotes. */
const shellQuote = (arg: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
