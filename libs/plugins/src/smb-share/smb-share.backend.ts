import type { CheckContext, CheckStatus, Reason } from '../plugin.js';
import type { SmbShareConfig } from './smb-share.schema.js';

/** Why a step failed, already in the closed set of reasons, with a sentence for people. */
export interface SmbFailure {
  status: CheckStatus;
  reason: Reason;
  /** What the agent was doing ("listing", "writing the probe file", …). */
  step: string;
  message: string;
  /** NT_STATUS_… or an OS error code, when there was one. */
  code?: string;
}

/** What one look at the share found; anything measured before a failure is kept. */
export interface SmbObservation {
  listSeconds?: number;
  entries?: number;
  totalBytes?: number;
  freeBytes?: number;
  probeWriteSeconds?: number;
  probeReadSeconds?: number;
  failure?: SmbFailure;
}

/**
 * One way to reach a share: `smbclient` on Linux (handles NTLMv2, signing and SMB3
 * encryption, which no JS client does), the OS redirector on Windows.
 */
export interface SmbBackend {
  observe(config: SmbShareConfig, ctx: CheckContext): Promise<SmbObservation>;
}

/** The probe file's content: unique per run so a stale file from an earlier run cannot pass the read-back. */
export function probeContent(now: number): Buffer {
  return Buffer.from(`rounds smb-share probe ${now} ${Math.random().toString(36).slice(2)}\n`);
}
