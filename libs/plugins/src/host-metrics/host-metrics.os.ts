/** Cumulative CPU time of one core, in any unit: only differences between runs are used. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface CpuFacts {
  logicalCores: number;
  physicalCores?: number;
}

export interface MemorySample {
  totalBytes: number;
  availableBytes: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
  swapFreeBytes: number;
}

/** A network interface with an address, as os.networkInterfaces() lists it. */
export interface NetworkInterface {
  iface: string;
  /** Loopback. */
  internal: boolean;
}

export interface InterfaceSample {
  iface: string;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
}

export interface FilesystemSample {
  mount: string;
  fstype: string;
  device: string;
  sizeBytes: number;
  usedBytes: number;
  /** Available to unprivileged users, as df's "Avail". */
  freeBytes: number;
  /** Pseudo, in-memory or network filesystem: skipped unless asked for. */
  pseudo: boolean;
}

/**
 * Whether the check will report a filesystem. A platform may use it to avoid looking at a
 * mount at all (Linux does not statfs a network mount nobody asked for: a dead NFS server
 * would hang the call); the plugin applies the same selection to whatever comes back.
 */
export type FilesystemFilter = (mount: string, fstype: string, pseudo: boolean) => boolean;

/**
 * What differs between operating systems. Filesystems and processes may come from calls
 * that cannot be cancelled (statfs on a hung network mount, PowerShell on Windows): the
 * caller shares one call between overlapping runs and races it against each run's signal.
 */
export interface HostPlatform {
  readonly os: 'linux' | 'windows';
  cpuTimes(signal: AbortSignal): Promise<CpuTimes[]>;
  /** Static; the caller caches it for the process' lifetime. */
  cpuFacts(): Promise<CpuFacts>;
  /** 1, 5 and 15 minute load averages; undefined where the OS has none (Windows). */
  loadAverage(): readonly [number, number, number] | undefined;
  memory(): Promise<MemorySample>;
  /** Interfaces that have an address; the caller caches the list for a few minutes. */
  networkInterfaces(): Promise<NetworkInterface[]>;
  /** Cumulative counters of these interfaces (never empty); an interface that is gone is left out. */
  networkCounters(names: readonly string[]): Promise<InterfaceSample[]>;
  processCount(): Promise<number>;
  filesystems(wanted?: FilesystemFilter): Promise<FilesystemSample[]>;
}
