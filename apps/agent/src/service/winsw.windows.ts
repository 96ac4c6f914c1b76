import { win32 } from 'node:path';
import { EX_USAGE, SERVICE_NAME, ServiceError, assertPrintable, type InstallTarget, type ServicePlatform, type ServiceStep } from './service-manager.js';

/**
 * WinSW, renamed: WinSW finds its definition as the .xml of its own name beside it, and the
 * .exe.config lets the .NET Framework 2.0 build in node-windows run on the .NET 4 that every
 * Windows 10 / Server 2016 and later has (without it Windows offers to install .NET 3.5).
 */
export const WRAPPER_BASENAME = `${SERVICE_NAME}-service`;

/**
 * A virtual account: a SID of the service's own, so the ACLs on its folder let in this service
 * and no other. NT AUTHORITY\LocalService would do too, but is shared by every service that
 * runs as it — each of them could read the agent's private key. Both have no admin rights;
 * on the network a virtual account is the computer account (DOMAIN\HOST$), LocalService is
 * anonymous.
 */
export const VIRTUAL_ACCOUNT = { domain: 'NT SERVICE', user: SERVICE_NAME } as const;
export const SERVICE_ACCOUNT = `${VIRTUAL_ACCOUNT.domain}\\${VIRTUAL_ACCOUNT.user}`;

/** The Application event log source the agent and WinSW write to. */
export const EVENT_SOURCE = SERVICE_NAME;
/** Set in the service's environment: the agent sends its errors to this event log source. */
export const EVENT_LOG_ENV = 'ROUNDS_AGENT_EVENT_LOG';

/** Well-known SIDs, so that the ACLs hold on Windows in any language. */
const SYSTEM_SID = '*S-1-5-18';
const ADMINISTRATORS_SID = '*S-1-5-32-544';

export const WINSW_EXE_CONFIG = [
  '<?xml version="1.0" encoding="utf-8"?>',
  '<configuration>',
  '  <startup>',
  '    <supportedRuntime version="v4.0" />',
  '    <supportedRuntime version="v2.0.50727" />',
  '  </startup>',
  '</configuration>',
  '',
].join('\r\n');

/** Quotes one argument the way CommandLineToArgvW (and Node on Windows) splits it back. */
export function windowsQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
      continue;
    }
    out += ch === '"' ? `${'\\'.repeat(backslashes * 2 + 1)}"` : `${'\\'.repeat(backslashes)}${ch}`;
    backslashes = 0;
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/** Escapes element text (the definition has no attribute made from input). */
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface WinswXmlOptions {
  /** The agent program WinSW starts (WinSW expands %VARIABLES%, %BASE% being its own folder). */
  executable: string;
  /** The agent's arguments, `start --config …`. */
  args: readonly string[];
  /** The agent's data folder: working directory; logs go to its logs\ folder. */
  dataDir: string;
}

/**
 * The WinSW 1.x service definition: automatic start as the virtual account, restart on failure
 * after 10 s, 1 min, then every 5 min (the count resets after an hour without one), Ctrl+C and
 * 20 s to stop (the agent flushes its spool), the agent's output in size-rolled logs (10 MiB ×
 * 8) under the data folder, and its errors in the Event Log. WinSW logs the service's start,
 * stop and a crashed agent's exit code there itself.
 */
export function winswXml(o: WinswXmlOptions): string {
  const logDir = win32.join(o.dataDir, 'logs');
  return [
    // <service> first: WinSW 1.x reads stoptimeout and resetfailure below the document's first node.
    '<service>',
    '  <!-- Rounds agent as a Windows service, for WinSW 1.x (the wrapper beside this file, renamed to',
    `       ${WRAPPER_BASENAME}.exe). Made by \`rounds-agent service install\` (apps/agent/src/service/winsw.windows.ts);`,
    '       the MSI carries the same, with %BASE% and %ProgramData% in its paths. -->',
    `  <id>${SERVICE_NAME}</id>`,
    '  <name>Rounds agent</name>',
    '  <description>Runs Rounds check plugins for the Rounds collector, which polls it over gRPC (TLS).</description>',
    `  <executable>${xmlEscape(o.executable)}</executable>`,
    `  <arguments>${xmlEscape(o.args.map(windowsQuote).join(' '))}</arguments>`,
    `  <workingdirectory>${xmlEscape(o.dataDir)}</workingdirectory>`,
    '  <startmode>Automatic</startmode>',
    '  <serviceaccount>',
    `    <domain>${VIRTUAL_ACCOUNT.domain}</domain>`,
    `    <user>${VIRTUAL_ACCOUNT.user}</user>`,
    '    <!-- A virtual account has the right to log on as a service already. -->',
    '    <allowservicelogon>false</allowservicelogon>',
    '  </serviceaccount>',
    '  <onfailure action="restart" delay="10 sec" />',
    '  <onfailure action="restart" delay="1 min" />',
    '  <onfailure action="restart" delay="5 min" />',
    '  <resetfailure>1 hour</resetfailure>',
    '  <stoptimeout>20 sec</stoptimeout>',
    `  <logpath>${xmlEscape(logDir)}</logpath>`,
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>8</keepFiles>',
    '  </log>',
    `  <env name="${EVENT_LOG_ENV}" value="${EVENT_SOURCE}" />`,
    '</service>',
    '',
  ].join('\r\n');
}

/** What the WinSW plan needs to know about this host. */
export interface WindowsHost {
  /** %ProgramData%, e.g. C:\ProgramData. */
  programData: string;
  /** %ProgramFiles% and %ProgramFiles(x86)%: only administrators may change what is in them. */
  programFiles: readonly string[];
  /** The WinSW executable to put beside the agent, or 'present' when one is there (the MSI put it). */
  wrapper: Uint8Array | 'present';
  /** Whether the service control manager knows rounds-agent. */
  installed: boolean;
}

const lower = (p: string): string => win32.normalize(p).toLowerCase().replace(/\\+$/, '');
const within = (path: string, folder: string): boolean => lower(path) === lower(folder) || lower(path).startsWith(`${lower(folder)}\\`);

/** WinSW gives the agent 20 s to flush its spool (stoptimeout), then ends it. */
const STOPPED: ServiceStep = {
  kind: 'await-stop',
  service: SERVICE_NAME,
  timeoutMs: 30_000,
  why: 'an upgrade installs the new service only once the old one is gone',
};

/** Windows: WinSW registers the service; sc.exe starts, stops, queries and deletes it. */
export class WinswPlatform implements ServicePlatform {
  readonly manager = 'WinSW';

  constructor(private readonly host: WindowsHost) {}

  /** The agent's default data folder, %ProgramData%\Rounds. */
  static dataDir(programData: string): string {
    return win32.join(programData, 'Rounds');
  }

  install(t: InstallTarget): ServiceStep[] {
    if (this.host.installed) {
      throw new ServiceError(
        `the ${SERVICE_NAME} service is installed already: remove it with \`rounds-agent service uninstall\` first (config, spool and logs stay), then install again`,
      );
    }
    const { program } = t;
    const dataDir = win32.dirname(t.configPath);
    for (const [what, path] of [
      ['the agent program', program.executable],
      ['the agent program', program.programFile],
      ['the config file', t.configPath],
      ['the spool folder', t.spoolDir],
    ] as const) {
      assertPrintable(what, path);
      if (path.includes('%')) {
        throw new ServiceError(`${what} ${path} contains %, which WinSW would expand as a variable: use a path without one`, EX_USAGE);
      }
    }
    for (const file of [program.executable, program.programFile]) {
      if (!this.host.programFiles.some((folder) => within(file, folder))) {
        throw new ServiceError(
          `the service would run ${file}, in a folder that users other than administrators may be able to change: ` +
            `copy the agent to ${win32.join(this.host.programFiles[0] ?? 'C:\\Program Files', 'Rounds')} (the MSI installs it there) and run \`service install\` from there`,
          EX_USAGE,
        );
      }
    }
    for (const [what, dir] of [
      ['the config folder', dataDir],
      ['the spool folder', t.spoolDir],
    ] as const) {
      if (lower(dir) === lower(this.host.programData) || lower(dir) === lower(win32.parse(dir).root) || this.host.programFiles.some((f) => within(dir, f))) {
        throw new ServiceError(
          `${what} ${dir} is shared with other software, and the service would own and write it: give the agent a folder of its own, e.g. ${win32.join(WinswPlatform.dataDir(this.host.programData), 'agent.yaml')}`,
          EX_USAGE,
        );
      }
    }
    const wrapperDir = win32.dirname(program.programFile);
    const wrapper = win32.join(wrapperDir, `${WRAPPER_BASENAME}.exe`);
    const xml = winswXml({ executable: program.executable, args: [...program.leadingArgs, 'start', '--config', t.configPath], dataDir });
    const grant = `${SERVICE_ACCOUNT}:(OI)(CI)M`;
    return [
      ...(this.host.wrapper === 'present'
        ? []
        : [{ kind: 'write', path: wrapper, content: this.host.wrapper, mode: 0o755, why: 'the service wrapper (WinSW 1.17, from node-windows)' } as const]),
      { kind: 'write', path: `${wrapper}.config`, content: WINSW_EXE_CONFIG, mode: 0o644, why: 'run WinSW on .NET Framework 4' },
      { kind: 'write', path: win32.join(wrapperDir, `${WRAPPER_BASENAME}.xml`), content: xml, mode: 0o644, why: 'the service definition' },
      { kind: 'mkdir', path: win32.join(dataDir, 'logs'), why: 'the agent’s rolled logs' },
      { kind: 'run', command: wrapper, args: ['install'], why: `register the service (automatic start as ${SERVICE_ACCOUNT}, restart on failure)` },
      {
        kind: 'run',
        command: 'icacls',
        args: [dataDir, '/inheritance:r', '/grant:r', `${SYSTEM_SID}:(OI)(CI)F`, `${ADMINISTRATORS_SID}:(OI)(CI)F`, grant],
        why: 'only SYSTEM, administrators and the service read the data folder (it holds the private key); the service may change it (token rotation, spool, logs)',
      },
      ...(within(t.spoolDir, dataDir)
        ? []
        : [
            { kind: 'mkdir', path: t.spoolDir, why: 'where results wait for the collector' } as const,
            { kind: 'run', command: 'icacls', args: [t.spoolDir, '/grant', grant], why: 'the service writes its spool' } as const,
          ]),
      {
        kind: 'run',
        command: 'eventcreate',
        args: [
          '/L',
          'APPLICATION',
          '/T',
          'INFORMATION',
          '/SO',
          EVENT_SOURCE,
          '/ID',
          '1',
          '/D',
          `Rounds agent service installed: ${program.programFile}, config ${t.configPath}`,
        ],
        why: `the Application log source ${EVENT_SOURCE} (only an administrator can create it; the service then writes its errors there)`,
      },
      ...(t.start ? [{ kind: 'run', command: 'sc.exe', args: ['start', SERVICE_NAME], why: 'start it now', ok: [0, 1056] } as const] : []),
    ];
  }

  uninstall(): ServiceStep[] {
    this.mustBeInstalled();
    return [
      // 1062: it was not running.
      { kind: 'run', command: 'sc.exe', args: ['stop', SERVICE_NAME], why: 'stop the agent', ok: [0, 1062] },
      STOPPED,
      // 1072: marked for deletion already; it goes once stopped.
      { kind: 'run', command: 'sc.exe', args: ['delete', SERVICE_NAME], why: 'remove the service', ok: [0, 1072] },
      {
        kind: 'run',
        command: 'reg',
        args: ['delete', `HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\${EVENT_SOURCE}`, '/f'],
        why: 'remove the event log source',
        ok: [0, 1],
      },
    ];
  }

  start(): ServiceStep[] {
    this.mustBeInstalled();
    // 1056: it runs already.
    return [{ kind: 'run', command: 'sc.exe', args: ['start', SERVICE_NAME], why: 'start the agent', ok: [0, 1056] }];
  }

  stop(): ServiceStep[] {
    this.mustBeInstalled();
    return [
      { kind: 'run', command: 'sc.exe', args: ['stop', SERVICE_NAME], why: 'stop the agent (its spool is kept for the next start)', ok: [0, 1062] },
      STOPPED,
    ];
  }

  status(): ServiceStep[] {
    this.mustBeInstalled();
    return [{ kind: 'run', command: 'sc.exe', args: ['query', SERVICE_NAME], why: 'its state', show: true }];
  }

  private mustBeInstalled(): void {
    if (!this.host.installed) {
      throw new ServiceError(
        `the ${SERVICE_NAME} service is not installed: install it with \`rounds-agent service install --config ${win32.join(WinswPlatform.dataDir(this.host.programData), 'agent.yaml')}\` (as administrator), or with the MSI`,
      );
    }
  }
}
