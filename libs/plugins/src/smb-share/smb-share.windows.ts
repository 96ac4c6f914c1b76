import { readdir, readFile, statfs, unlink, writeFile } from 'node:fs/promises';
import { hostname as localHostname } from 'node:os';
import type { CheckContext, Reason } from '../plugin.js';
import { probeContent, type SmbBackend, type SmbFailure, type SmbObservation } from './smb-share.backend.js';
import type { SmbShareConfig } from './smb-share.schema.js';

/**
 * Windows error codes as libuv and Node report them for UNC paths, with what they mean
 * for a share. ERROR_* numbers arrive as `errno` when libuv has no name for them.
 */
const WINDOWS_ERRORS: Readonly<Record<string, readonly [Reason, string]>> = {
  ENOENT: ['bad_share', 'the share or the path does not exist'],
  ENOTDIR: ['bad_share', 'the path is a file, not a folder'],
  EACCES: ['access_denied', 'the agent account is not allowed to do this on the share'],
  EPERM: ['access_denied', 'the agent account is not allowed to do this on the share'],
  EBUSY: ['access_denied', 'another program holds the probe file open'],
  EROFS: ['access_denied', 'the share is read-only'],
  ENOSPC: ['disk_full', 'the share is full'],
  EDQUOT: ['disk_full', "the agent account's quota is used up"],
  ETIMEDOUT: ['timeout', 'the server did not answer in time'],
  ECONNREFUSED: ['refused', 'the server refused the connection'],
  EHOSTUNREACH: ['unreachable', 'there is no route to the server'],
  ENETUNREACH: ['unreachable', 'the network of the server is unreachable'],
  '1326': ['auth', 'the server refused the agent account (logon failure)'],
  '1331': ['auth', 'the account is disabled'],
  '1909': ['auth', 'the account is locked out'],
  '1219': ['auth', 'Windows already holds a connection to this server with other credentials'],
  '67': ['bad_share', 'the server has no share by this name'],
  '53': ['unreachable', 'the network path was not found (name, firewall or SMB service)'],
  '64': ['protocol_error', 'the network name is no longer available'],
  '1231': ['unreachable', 'the network location cannot be reached'],
  '112': ['disk_full', 'the share is full'],
};

function failureOf(e: unknown, step: string, ctx: CheckContext): SmbFailure {
  if (ctx.signal.aborted) return { status: 'CRITICAL', reason: 'timeout', step, message: `no result before the check's deadline while ${step}` };
  const err = e as NodeJS.ErrnoException;
  const code = err.code && err.code !== 'UNKNOWN' ? err.code : String(Math.abs(err.errno ?? 0));
  const known = WINDOWS_ERRORS[code];
  if (known) return { status: 'CRITICAL', reason: known[0], step, message: `${known[1]} (${code})`, code };
  return { status: 'UNKNOWN', reason: 'unexpected_response', step, message: `Windows reported ${code}: ${err.message}`, code };
}

/**
 * The Windows redirector reads UNC paths natively, with signing and encryption as the
 * server and policy demand. It authenticates as the agent's service account (or a
 * credential stored with `cmdkey`): handing it a password would need `net use` with
 * the password in argv, which we never do.
 */
export const windowsBackend: SmbBackend = {
  async observe(config: SmbShareConfig, ctx: CheckContext): Promise<SmbObservation> {
    if (config.port !== 445) {
      return {
        failure: {
          status: 'UNKNOWN',
          reason: 'config_error',
          step: 'opening the share',
          message: 'Windows agents reach shares on port 445 only: remove port or run the check from a Linux agent',
        },
      };
    }
    if (config.username || config.password) {
      return {
        failure: {
          status: 'UNKNOWN',
          reason: 'config_error',
          step: 'opening the share',
          message: `Windows agents open shares as their service account: remove username/password and grant that account access, or store a credential with \`cmdkey /add:${config.server} /user:DOMAIN\\user /pass\` as the service account`,
        },
      };
    }
    const folder = [`\\\\${config.server}\\${config.share}`, ...config.path.split(/[\\/]+/).filter(Boolean)].join('\\');
    const observation: SmbObservation = {};
    let started = ctx.now();
    try {
      const entries = await readdir(folder);
      observation.listSeconds = (ctx.now() - started) / 1000;
      observation.entries = entries.length;
      const space = await statfs(folder);
      observation.totalBytes = space.blocks * space.bsize;
      observation.freeBytes = space.bavail * space.bsize;
    } catch (e) {
      observation.failure = failureOf(e, 'listing', ctx);
      return observation;
    }
    if (!config.probe) return observation;

    const file = `${folder}\\${config.probeFileName}.${localHostname().replace(/[^A-Za-z0-9-]/g, '')}`;
    const content = probeContent(ctx.now());
    try {
      started = ctx.now();
      await writeFile(file, content, { signal: ctx.signal });
      observation.probeWriteSeconds = (ctx.now() - started) / 1000;
    } catch (e) {
      observation.failure = failureOf(e, 'writing the probe file', ctx);
      return observation;
    }
    try {
      started = ctx.now();
      const back = await readFile(file, { signal: ctx.signal });
      observation.probeReadSeconds = (ctx.now() - started) / 1000;
      if (!back.equals(content)) {
        observation.failure = {
          status: 'CRITICAL',
          reason: 'unexpected_response',
          step: 'reading the probe file back',
          message: `read back ${back.length} bytes that differ from the ${content.length} written`,
        };
      }
    } catch (e) {
      observation.failure = failureOf(e, 'reading the probe file back', ctx);
    }
    try {
      await unlink(file);
    } catch (e) {
      observation.failure ??= failureOf(e, 'deleting the probe file', ctx);
    }
    return observation;
  },
};
