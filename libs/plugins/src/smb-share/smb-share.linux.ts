import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname as localHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckContext } from '../plugin.js';
import { describeNtStatus } from './nt-status.js';
import { probeContent, type SmbBackend, type SmbFailure, type SmbObservation } from './smb-share.backend.js';
import type { SmbShareConfig } from './smb-share.schema.js';

const NT_STATUS_CODE = /NT_STATUS_[A-Z0-9_]+/;
const DU_LINE = /(\d+) blocks of size (\d+)\. (\d+) blocks available/;
const LS_ENTRY = /^ {2}\S.*\s+\d+\s+\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

interface SmbclientRun {
  code: number | null;
  output: string;
  seconds: number;
  aborted: boolean;
}

/**
 * The smbclient command line for one step. The password is never here: smbclient reads
 * it from the PASSWD environment variable, so it stays out of `ps` and of logs.
 */
export function smbclientArgs(config: SmbShareConfig, address: string, commands: string): string[] {
  const args = [`//${config.server}/${config.share}`, '-p', String(config.port), '-I', address];
  if (config.username) {
    args.push('-U', config.username);
    if (config.domain) args.push('-W', config.domain);
  } else {
    args.push('-N');
  }
  // Signing is negotiated by default (a server that requires it just works); encryption only on request.
  if (config.encryption === 'required') args.push('--client-protection=encrypt');
  const dir = config.path.replace(/\//g, '\\').replace(/^\\+|\\+$/g, '');
  if (dir) args.push('-D', dir);
  args.push('-c', commands);
  return args;
}

/** Quotes a name for smbclient's own command parser (not a shell). */
function quote(name: string): string {
  return `"${name}"`;
}

function runSmbclient(args: string[], password: string | undefined, ctx: CheckContext): Promise<SmbclientRun> {
  const started = ctx.now();
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', HOME: tmpdir() };
    if (password !== undefined) env['PASSWD'] = password;
    // No shell; the signal kills smbclient at the deadline so no session outlives the check.
    const child = spawn('smbclient', args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal: ctx.signal, killSignal: 'SIGKILL' });
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < 1_000_000) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code) => {
      const aborted = ctx.signal.aborted;
      if (spawnError && !aborted) output += `\nspawn failed: ${spawnError.message}`;
      resolve({ code: spawnError ? -1 : code, output, seconds: (ctx.now() - started) / 1000, aborted });
    });
  });
}

function failureOf(run: SmbclientRun, step: string): SmbFailure | undefined {
  if (run.aborted) return { status: 'CRITICAL', reason: 'timeout', step, message: `no result before the check's deadline while ${step}` };
  const code = NT_STATUS_CODE.exec(run.output)?.[0];
  if (code) {
    const verdict = describeNtStatus(code);
    return { ...verdict, step, code };
  }
  if (run.code === -1 || run.output.includes('spawn failed')) {
    return { status: 'UNKNOWN', reason: 'plugin_error', step, message: `cannot run smbclient: install the smbclient package (${run.output.trim()})` };
  }
  if (run.code !== 0) {
    const last = run.output.trim().split('\n').pop() ?? '';
    return { status: 'CRITICAL', reason: 'protocol_error', step, message: `smbclient exited with ${run.code}: ${last}` };
  }
  return undefined;
}

async function resolveAddress(server: string): Promise<string | SmbFailure> {
  if (isIP(server)) return server;
  try {
    return (await lookup(server)).address;
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'ENOTFOUND';
    // smbclient reports a failed lookup only as NT_STATUS_UNSUCCESSFUL: resolve first to say so.
    return { status: 'CRITICAL', reason: 'dns', step: 'resolving the server name', message: `cannot resolve ${server} (${code})`, code };
  }
}

export const linuxBackend: SmbBackend = {
  async observe(config: SmbShareConfig, ctx: CheckContext): Promise<SmbObservation> {
    const observation: SmbObservation = {};
    const address = await resolveAddress(config.server);
    if (typeof address !== 'string') return { failure: address };
    const smb = (commands: string) => runSmbclient(smbclientArgs(config, address, commands), config.password, ctx);

    const listing = await smb('ls; du');
    observation.failure = failureOf(listing, 'listing');
    if (observation.failure) return observation;
    observation.listSeconds = listing.seconds;
    observation.entries = listing.output.split('\n').filter((l) => LS_ENTRY.test(l) && !/^ {2}\.{1,2}\s/.test(l)).length;
    const du = DU_LINE.exec(listing.output);
    if (du) {
      const blockSize = Number(du[2]);
      observation.totalBytes = Number(du[1]) * blockSize;
      observation.freeBytes = Number(du[3]) * blockSize;
    }
    if (!config.probe) return observation;

    const remoteName = `${config.probeFileName}.${localHostname().replace(/[^A-Za-z0-9-]/g, '')}`;
    const local = await mkdtemp(join(tmpdir(), 'rounds-smb-'));
    try {
      const sent = join(local, 'sent');
      const received = join(local, 'received');
      const content = probeContent(ctx.now());
      await writeFile(sent, content, { mode: 0o600 });

      const put = await smb(`put ${quote(sent)} ${quote(remoteName)}`);
      observation.failure = failureOf(put, 'writing the probe file');
      if (observation.failure) return observation;
      observation.probeWriteSeconds = put.seconds;

      const get = await smb(`get ${quote(remoteName)} ${quote(received)}`);
      observation.failure = failureOf(get, 'reading the probe file back');
      if (!observation.failure) {
        observation.probeReadSeconds = get.seconds;
        const back = await readFile(received).catch(() => Buffer.alloc(0));
        if (!back.equals(content)) {
          observation.failure = {
            status: 'CRITICAL',
            reason: 'unexpected_response',
            step: 'reading the probe file back',
            message: `read back ${back.length} bytes that differ from the ${content.length} written`,
          };
        }
      }
      // Delete even after a failed read, so a probe never leaves litter on a clinical share.
      const del = await smb(`del ${quote(remoteName)}`);
      observation.failure ??= failureOf(del, 'deleting the probe file');
      return observation;
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  },
};
