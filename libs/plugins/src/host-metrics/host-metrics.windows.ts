import os from 'node:os';
import type { CpuFacts, CpuTimes, FilesystemSample, HostPlatform, InterfaceSample, MemorySample, NetworkInterface } from './host-metrics.os.js';

type SystemInformation = typeof import('systeminformation');

let systemInformation: Promise<SystemInformation> | undefined;

/**
 * systeminformation is loaded on first use, so that an agent on Linux (which reads /proc
 * itself) never pays its ~10 MiB of module graph.
 */
function si(): Promise<SystemInformation> {
  if (!systemInformation) {
    // a CommonJS module: its exports object is the namespace's default
    systemInformation = import('systeminformation').then((m) => (m as unknown as { default?: SystemInformation }).default ?? m);
    systemInformation.catch(() => {
      systemInformation = undefined;
    });
  }
  return systemInformation;
}

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
    const types = si()
      .then((s) => s.blockDevices())
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
  async cpuFacts(): Promise<CpuFacts> {
    const cpu = await (await si()).cpu();
    return { logicalCores: os.cpus().length || cpu.cores, physicalCores: cpu.physicalCores || undefined };
  },
  loadAverage() {
    return undefined;
  },
  async memory(): Promise<MemorySample> {
    const m = await (await si()).mem();
    return {
      totalBytes: m.total,
      availableBytes: m.available,
      swapTotalBytes: m.swaptotal,
      swapUsedBytes: m.swapused,
      swapFreeBytes: m.swapfree,
    };
  },
  async networkInterfaces(): Promise<NetworkInterface[]> {
    const list = (await (await si()).networkInterfaces()) as { iface: string; internal: boolean }[];
    return list.map((i) => ({ iface: i.iface, internal: i.internal }));
  },
  async networkCounters(names): Promise<InterfaceSample[]> {
    // an empty list would make si fall back to the default interface
    if (names.length === 0) return [];
    const stats = await (await si()).networkStats(names.join(','));
    return stats
      .filter((s) => names.includes(s.iface))
      .map((s) => ({ iface: s.iface, rxBytes: s.rx_bytes, txBytes: s.tx_bytes, rxErrors: s.rx_errors, txErrors: s.tx_errors }));
  },
  async processCount() {
    return (await (await si()).processes()).all;
  },
  async filesystems() {
    const [list, types] = await Promise.all([si().then((s) => s.fsSize()), fixedDriveTypes()]);
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
