import { definePlugin, outcome, type CheckStatus, type Metric, type MetricUnit } from '../plugin.js';
import type { SmbBackend, SmbObservation } from './smb-share.backend.js';
import { linuxBackend } from './smb-share.linux.js';
import { windowsBackend } from './smb-share.windows.js';
import { smbShareSchema, type FreeSpaceFloor, type SmbShareConfig } from './smb-share.schema.js';
import { formatBytes } from '../shared/net-common.js';

function backendFor(platform: NodeJS.Platform): SmbBackend {
  return platform === 'win32' ? windowsBackend : linuxBackend;
}

function below(floor: FreeSpaceFloor | undefined, free: number, total: number): boolean {
  if (!floor) return false;
  return floor.unit === 'percent' ? total > 0 && (free / total) * 100 < floor.value : free < floor.value;
}

function metricsOf(o: SmbObservation): Metric[] {
  const metrics: Metric[] = [];
  const add = (name: string, value: number | undefined, unit: MetricUnit) => {
    if (value !== undefined && Number.isFinite(value)) metrics.push({ name, value, unit });
  };
  add('list_seconds', o.listSeconds, 'seconds');
  add('total_bytes', o.totalBytes, 'bytes');
  add('free_bytes', o.freeBytes, 'bytes');
  if (o.totalBytes !== undefined && o.freeBytes !== undefined) {
    const used = Math.max(0, o.totalBytes - o.freeBytes);
    add('used_bytes', used, 'bytes');
    add('used_ratio', o.totalBytes > 0 ? used / o.totalBytes : 0, 'ratio');
  }
  add('probe_write_seconds', o.probeWriteSeconds, 'seconds');
  add('probe_read_seconds', o.probeReadSeconds, 'seconds');
  return metrics;
}

function unc(config: SmbShareConfig): string {
  const path = config.path
    .split(/[\\/]+/)
    .filter(Boolean)
    .join('\\');
  return `\\\\${config.server}\\${config.share}${path ? `\\${path}` : ''}`;
}

export const smbSharePlugin = definePlugin({
  name: 'smb-share',
  version: '1.0.0',
  description: 'Checks an SMB2/3 share: logs on, lists a folder, reports free space and optionally writes, reads back and deletes a probe file.',
  configSchema: smbShareSchema,
  metrics: [
    { name: 'list_seconds', unit: 'seconds', help: 'Logon and folder listing.' },
    { name: 'total_bytes', unit: 'bytes', help: 'Size of the share.' },
    { name: 'free_bytes', unit: 'bytes', help: 'Space free on the share.' },
    { name: 'used_bytes', unit: 'bytes', help: 'Space used on the share.' },
    { name: 'used_ratio', unit: 'ratio', help: 'Used share of the space (0..1).' },
    { name: 'probe_write_seconds', unit: 'seconds', help: 'Writing the probe file (with probe).' },
    { name: 'probe_read_seconds', unit: 'seconds', help: 'Reading the probe file back (with probe).' },
  ],
  async run(config, ctx) {
    const where = unc(config);
    const o = await backendFor(process.platform).observe(config, ctx);
    const metrics = metricsOf(o);
    if (o.failure) {
      return outcome(o.failure.status, o.failure.reason, `${where}: ${o.failure.step} failed: ${o.failure.message}`, metrics);
    }

    const parts = [`listed ${o.entries ?? 0} entries in ${(o.listSeconds ?? 0).toFixed(3)} s`];
    let status: CheckStatus = 'OK';
    let breached: FreeSpaceFloor | undefined;
    if (o.totalBytes !== undefined && o.freeBytes !== undefined) {
      const percent = o.totalBytes > 0 ? (o.freeBytes / o.totalBytes) * 100 : 0;
      parts.push(`${formatBytes(o.freeBytes)} free of ${formatBytes(o.totalBytes)} (${percent.toFixed(1)}%)`);
      if (below(config.freeCritical, o.freeBytes, o.totalBytes)) {
        status = 'CRITICAL';
        breached = config.freeCritical;
      } else if (below(config.freeWarning, o.freeBytes, o.totalBytes)) {
        status = 'WARNING';
        breached = config.freeWarning;
      }
    } else if (config.freeWarning || config.freeCritical) {
      return outcome('UNKNOWN', 'unexpected_response', `${where}: the server did not report free space, so the free-space floors cannot be checked`, metrics);
    }
    if (config.probe) {
      parts.push(`probe write ${(o.probeWriteSeconds ?? 0).toFixed(3)} s, read ${(o.probeReadSeconds ?? 0).toFixed(3)} s`);
    }
    const summary = `${where}: ${parts.join('; ')}`;
    if (breached) return outcome(status, 'threshold', `${summary} — free space below ${status.toLowerCase()} floor ${breached.text}`, metrics);
    return outcome('OK', 'ok', summary, metrics);
  },
});
