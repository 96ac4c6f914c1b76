import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeTempDir, requireBinary, startDaemon, tcpAccepts, type Daemon } from './process.js';

/** The Unix account smbpasswd needs behind the Samba user; created once, never logs in. */
export const SAMBA_UNIX_USER = 'rounds-smb';

export interface SambaShare {
  name: string;
  readOnly?: boolean;
}

export interface SambaOptions {
  shares: SambaShare[];
  password: string;
  /** `server signing = mandatory`, as Windows domain controllers and hardened servers do. */
  mandatorySigning?: boolean;
  /** `smb encrypt = required`. */
  requireEncryption?: boolean;
}

export interface Samba extends Daemon {
  port: number;
  user: string;
  password: string;
  /** Directory on disk behind a share. */
  sharePath(name: string): string;
}

function ensureUnixUser(): void {
  if (spawnSync('id', [SAMBA_UNIX_USER]).status === 0) return;
  const useradd = requireBinary('useradd', 'passwd');
  execFileSync(useradd, ['--no-create-home', '--shell', '/usr/sbin/nologin', SAMBA_UNIX_USER], { stdio: 'pipe' });
}

/**
 * smbd on a free loopback port with every directory (passdb, locks, state, shares) in
 * its own temp dir. Needs root: smbd switches to the share user for file access.
 */
export async function startSamba(options: SambaOptions): Promise<Samba> {
  const smbd = requireBinary('smbd', 'samba');
  const smbpasswd = requireBinary('smbpasswd', 'samba-common-bin');
  requireBinary('smbclient', 'smbclient');
  ensureUnixUser();
  const dir = makeTempDir('samba');
  chmodSync(dir, 0o755);
  for (const sub of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'shares']) mkdirSync(join(dir, sub));
  const sharePath = (name: string) => join(dir, 'shares', name);
  const port = await freePort();
  const global = [
    '[global]',
    'server role = standalone server',
    'workgroup = ROUNDS',
    `smb ports = ${port}`,
    'interfaces = lo',
    'bind interfaces only = yes',
    `private dir = ${join(dir, 'private')}`,
    `lock directory = ${join(dir, 'lock')}`,
    `state directory = ${join(dir, 'state')}`,
    `cache directory = ${join(dir, 'cache')}`,
    `pid directory = ${join(dir, 'pid')}`,
    `ncalrpc dir = ${join(dir, 'ncalrpc')}`,
    `passdb backend = tdbsam:${join(dir, 'private', 'passdb.tdb')}`,
    `log file = ${join(dir, 'log.%m')}`,
    'load printers = no',
    'printcap name = /dev/null',
    'disable spoolss = yes',
    'map to guest = never',
    'server min protocol = SMB2_10',
    ...(options.mandatorySigning ? ['server signing = mandatory'] : []),
    ...(options.requireEncryption ? ['smb encrypt = required'] : []),
  ];
  const shares = options.shares.flatMap((share) => {
    mkdirSync(sharePath(share.name));
    chmodSync(sharePath(share.name), 0o777);
    return [`[${share.name}]`, `path = ${sharePath(share.name)}`, `read only = ${share.readOnly ? 'yes' : 'no'}`];
  });
  const conf = join(dir, 'smb.conf');
  writeFileSync(conf, [...global, ...shares, ''].join('\n'));
  const added = spawnSync(smbpasswd, ['-c', conf, '-a', '-s', SAMBA_UNIX_USER], {
    input: `${options.password}\n${options.password}\n`,
    encoding: 'utf8',
  });
  if (added.status !== 0) throw new Error(`smbpasswd -a failed (${added.status}): ${added.stderr}${added.stdout}`);
  const daemon = await startDaemon({
    name: 'smbd',
    command: smbd,
    args: ['--foreground', '--no-process-group', '--debug-stdout', '-s', conf],
    dir,
    ready: () => tcpAccepts(port),
  });
  return Object.assign(daemon, { port, user: SAMBA_UNIX_USER, password: options.password, sharePath });
}
