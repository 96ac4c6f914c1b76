import os from 'node:os';
import si from 'systeminformation';
import type { CpuTimes, FilesystemSample, HostPlatform } from './host-metrics.os.js';

const DRIVE_TYPES_TTL_MS = 10 * 60 * 1000;
let driveTypes: { at: number; types: Promise<Map<string, string>> } | undefined;

/**
 * Which drive letters are fixed disks. si.fsSize() lists network, removable and optical
 * drives alike; si.blockDevices() knows the WMI DriveType but costs a PowerShell start, so
 * the answer is cached (drives rarely change) and a failure just means "assume fixed".
 */
function fixedDriveTypes(): Promise<Map<string, string>> {
  const now = Date.now();
  if (!driveTypes || now - driveTypes.at > DRIVE_TYPES_TTL_MS) {
    const types = si
      .blockDevices()
      .then((devices) => new Map(devices.map((d) => [d.name.toUpperCase(), d.physical])))
      .catch(() => new Map<string, string>());
    driveTypes = { at: now, types };
  }
  return driveTypes.types;
}

export const windowsPlatform: HostPlatform = {
  os: 'windows',
  async cpuTimes(): Promise<CpuTimes[]> {
    // on Windows libuv's sys already contains irq time
    return os.cpus().map(({ times }) => {
      const busy = times.user + times.nice + times.sys;
      return { busy, total: busy + times.idle };
    });
  },
  loadAverage() {
    return undefined;
  },
  async processCount() {
    return (await si.processes()).all;
  },
  async filesystems() {
    const [list, types] = await Promise.all([si.fsSize(), fixedDriveTypes()]);
    return list.map((fs): FilesystemSample => {
      const physical = types.get(fs.mount.toUpperCase());
      return {
        mount: fs.mount,
        fstype: fs.type,
        device: fs.fs,
        sizeBytes: fs.size,
        usedBytes: fs.used,
        freeBytes: fs.available,
        pseudo: physical !== undefined && physical !== 'Local',
      };
    });
  },
};
