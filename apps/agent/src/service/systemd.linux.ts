import { posix } from 'node:path';
import { EX_USAGE, SERVICE_NAME, ServiceError, assertPrintable, type InstallTarget, type ServicePlatform, type ServiceStep } from './service-manager.js';

export const UNIT_PATH = `/etc/systemd/system/${SERVICE_NAME}.service`;

export interface SystemdUnitOptions {
  /** ExecStart: the program and its arguments, `start` last. */
  exec: readonly string[];
  configPath: string;
  user: string;
  /** What the agent may write: its config folder (token rotation) and its spool. */
  readWritePaths: readonly string[];
  /** From 254 on systemd backs off between restarts (RestartSteps=, RestartMaxDelaySec=); 252 (Debian 12) does not know them. */
  systemdVersion: number;
}

/**
 * The layout deploy/systemd/README.md describes (the package in /opt/rounds, Debian 12's
 * systemd): deploy/systemd/rounds-agent.service is `systemdUnit(PACKAGE_UNIT)`, and
 * test/deploy/systemd.spec.ts keeps the file and this generator equal.
 */
export const PACKAGE_UNIT: SystemdUnitOptions = Object.freeze({
  exec: ['/usr/bin/node', '/opt/rounds/bin/rounds-agent.js', 'start'],
  configPath: '/etc/rounds/agent.yaml',
  user: 'rounds',
  readWritePaths: ['/etc/rounds', '/var/lib/rounds'],
  systemdVersion: 252,
});

/** The first systemd that understands RestartSteps= and RestartMaxDelaySec=. */
const BACKOFF_SINCE = 254;

/**
 * Paths go into the unit unquoted, so they are held to characters systemd reads literally
 * there (no spaces, quotes, `%` specifiers or `$` variables); anything else is refused.
 */
const UNIT_SAFE = /^\/[A-Za-z0-9._/+@:,=-]*$/;

/** The agent's unit: unprivileged user, read-only system except its config folder and spool, restarted with back-off. */
export function systemdUnit(o: SystemdUnitOptions): string {
  for (const [what, value] of [
    ...o.exec.slice(0, -1).map((p) => ['the agent program', p] as const),
    ['the config file', o.configPath] as const,
    ...o.readWritePaths.map((p) => ['the writable folder', p] as const),
  ]) {
    if (!UNIT_SAFE.test(value)) {
      throw new ServiceError(
        `${what} ${JSON.stringify(value)} is not a plain absolute path (letters, digits and . _ - + @ : , = /): systemd would read its spaces, quotes, % or $ specially — move it to such a path`,
        EX_USAGE,
      );
    }
  }
  const backoff =
    o.systemdVersion >= BACKOFF_SINCE
      ? ['# Back-off: the delay grows from 5 s to 5 min over five restarts, and resets once it runs.', 'RestartSteps=5', 'RestartMaxDelaySec=5min']
      : [`# systemd ${o.systemdVersion} restarts every 5 s; \`rounds-agent service install\` on systemd ${BACKOFF_SINCE}+ adds a back-off to 5 min.`];
  return [
    '# Rounds agent as a systemd service, made by `rounds-agent service install` for the paths of its',
    '# host (apps/agent/src/service/systemd.linux.ts). deploy/systemd/rounds-agent.service is this for',
    '# the layout in deploy/systemd/README.md; test/deploy/systemd.spec.ts keeps them equal.',
    '[Unit]',
    'Description=Rounds agent (runs check plugins for the Rounds collector)',
    'After=network-online.target',
    'Wants=network-online.target',
    '# A monitoring agent never gives up: no start limit, only the delay between restarts.',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `User=${o.user}`,
    `Group=${o.user}`,
    `Environment=ROUNDS_AGENT_CONFIG=${o.configPath}`,
    `ExecStart=${o.exec.join(' ')}`,
    '# SIGTERM stops it cleanly: checks stop, then the spool (spool.dir) is flushed for the next start.',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=20',
    'Restart=on-failure',
    'RestartSec=5s',
    ...backoff,
    '# Least privilege: the agent needs the network and its own files, nothing else.',
    'UMask=0077',
    'NoNewPrivileges=true',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'ProtectSystem=strict',
    'ProtectHome=true',
    'PrivateTmp=true',
    'PrivateDevices=true',
    'ProtectKernelTunables=true',
    'ProtectKernelModules=true',
    'ProtectKernelLogs=true',
    'ProtectControlGroups=true',
    'ProtectClock=true',
    'ProtectHostname=true',
    'RestrictSUIDSGID=true',
    'RestrictRealtime=true',
    'RestrictNamespaces=true',
    'LockPersonality=true',
    'SystemCallArchitectures=native',
    '# Netlink lists the network interfaces (host-metrics). No raw sockets: no ICMP from the agent.',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    '# The config folder is writable for one reason: a token rotation from the collector rewrites the',
    '# config file there (a temporary file renamed over it). The spool keeps results for the collector.',
    `ReadWritePaths=${o.readWritePaths.join(' ')}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** What the systemd plan needs to know about this host. */
export interface LinuxHost {
  systemdVersion: number;
  userExists: boolean;
  unitInstalled: boolean;
}

/** Folders other software shares: the agent's files get a folder of their own, which it may own and write. */
const SHARED_FOLDERS = new Set([
  '/',
  '/etc',
  '/opt',
  '/srv',
  '/usr',
  '/usr/local',
  '/usr/local/etc',
  '/usr/local/bin',
  '/usr/bin',
  '/var',
  '/var/lib',
  '/var/opt',
]);
/** What the unit hides from the agent (ProtectHome=, PrivateTmp=). */
const HIDDEN = [
  { prefix: '/home', by: 'ProtectHome=true' },
  { prefix: '/root', by: 'ProtectHome=true' },
  { prefix: '/run/user', by: 'ProtectHome=true' },
  { prefix: '/tmp', by: 'PrivateTmp=true' },
  { prefix: '/var/tmp', by: 'PrivateTmp=true' },
];
const within = (path: string, folder: string): boolean => path === folder || path.startsWith(folder === '/' ? '/' : `${folder}/`);
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** systemd: a unit in /etc/systemd/system, driven with systemctl. */
export class SystemdPlatform implements ServicePlatform {
  readonly manager = 'systemd';

  constructor(
    private readonly host: LinuxHost,
    private readonly user = 'rounds',
  ) {
    if (user === 'root' || !USER_NAME.test(user)) {
      throw new ServiceError(
        `--user ${JSON.stringify(user)}: the agent runs as an unprivileged system user — name one such as rounds (lower-case letters, digits, _ and -; created if missing), never root`,
        EX_USAGE,
      );
    }
  }

  install(t: InstallTarget): ServiceStep[] {
    const program = t.program;
    const configDir = posix.dirname(t.configPath);
    for (const [what, path] of [
      ['the agent program', program.executable],
      ['the agent program', program.programFile],
      ['the config file', t.configPath],
      ['the spool folder', t.spoolDir],
      ...t.tlsFiles.map((f) => ['the TLS file', f] as const),
    ] as const) {
      assertPrintable(what, path);
      const hidden = HIDDEN.find((h) => within(path, h.prefix));
      if (hidden) {
        throw new ServiceError(
          `${what} ${path} is under ${hidden.prefix}, which the unit hides from the agent (${hidden.by}): ` +
            (what === 'the agent program'
              ? 'install the agent under /opt/rounds or /usr/local/bin and run `service install` from there'
              : 'keep the agent’s files under /etc/rounds and /var/lib/rounds (`rounds-agent init --config /etc/rounds/agent.yaml --spool-dir /var/lib/rounds/spool`)'),
          EX_USAGE,
        );
      }
    }
    for (const [what, dir] of [
      ['the config folder', configDir],
      ['the spool folder', t.spoolDir],
    ] as const) {
      if (SHARED_FOLDERS.has(dir)) {
        throw new ServiceError(
          `${what} ${dir} is shared with other software, and the service would own and write it: give the agent a folder of its own, e.g. /etc/rounds/agent.yaml and /var/lib/rounds/spool`,
          EX_USAGE,
        );
      }
      if (within(program.programFile, dir) || within(program.executable, dir)) {
        throw new ServiceError(
          `${what} ${dir} holds the agent program ${program.programFile}: the agent could rewrite the program it runs — keep config and spool apart from it (e.g. /etc/rounds, /var/lib/rounds/spool)`,
          EX_USAGE,
        );
      }
    }
    const readWritePaths = within(t.spoolDir, configDir) ? [configDir] : [configDir, t.spoolDir];
    const unit = systemdUnit({
      exec: [program.executable, ...program.leadingArgs, 'start'],
      configPath: t.configPath,
      user: this.user,
      readWritePaths,
      systemdVersion: this.host.systemdVersion,
    });
    const owned = [configDir, t.configPath, ...t.tlsFiles.filter((f) => within(f, configDir))];
    return [
      ...(this.host.userExists
        ? []
        : [
            {
              kind: 'run',
              command: 'useradd',
              args: ['--system', '--user-group', '--home-dir', '/nonexistent', '--no-create-home', '--shell', '/usr/sbin/nologin', this.user],
              why: `the unprivileged user the agent runs as`,
            } as const,
          ]),
      { kind: 'mkdir', path: t.spoolDir, why: 'where results wait for the collector' },
      {
        kind: 'run',
        command: 'chown',
        args: [`${this.user}:${this.user}`, ...owned],
        why: `the agent reads its config and key, and a token rotation rewrites the config in its folder`,
      },
      { kind: 'run', command: 'chown', args: ['-R', `${this.user}:${this.user}`, t.spoolDir], why: 'the agent writes its spool' },
      { kind: 'write', path: UNIT_PATH, content: unit, mode: 0o644, why: 'the unit' },
      { kind: 'run', command: 'systemctl', args: ['daemon-reload'], why: 'systemd reads the unit' },
      { kind: 'run', command: 'systemctl', args: ['enable', SERVICE_NAME], why: 'start at boot' },
      ...(t.start ? [{ kind: 'run', command: 'systemctl', args: ['restart', SERVICE_NAME], why: 'start it now (again, if it ran)' } as const] : []),
    ];
  }

  uninstall(): ServiceStep[] {
    this.mustBeInstalled();
    return [
      { kind: 'run', command: 'systemctl', args: ['disable', '--now', SERVICE_NAME], why: 'stop it and no longer start it at boot' },
      { kind: 'remove', path: UNIT_PATH, why: 'the unit' },
      { kind: 'run', command: 'systemctl', args: ['daemon-reload'], why: 'systemd forgets the unit' },
    ];
  }

  start(): ServiceStep[] {
    this.mustBeInstalled();
    return [{ kind: 'run', command: 'systemctl', args: ['start', SERVICE_NAME], why: 'start the agent' }];
  }

  stop(): ServiceStep[] {
    this.mustBeInstalled();
    return [{ kind: 'run', command: 'systemctl', args: ['stop', SERVICE_NAME], why: 'stop the agent (its spool is kept for the next start)' }];
  }

  status(): ServiceStep[] {
    this.mustBeInstalled();
    // 3: installed but not running — an answer, not a failure of the command.
    return [{ kind: 'run', command: 'systemctl', args: ['status', '--no-pager', SERVICE_NAME], why: 'its state', ok: [0, 3], show: true }];
  }

  private mustBeInstalled(): void {
    if (!this.host.unitInstalled) {
      throw new ServiceError(
        `${SERVICE_NAME} is not installed as a systemd service (no ${UNIT_PATH}): install it with \`sudo rounds-agent service install --config <agent.yaml>\``,
      );
    }
  }
}
