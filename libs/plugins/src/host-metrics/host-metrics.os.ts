/** Cumulative CPU time of one core, in any unit: only differences between runs are used. */
export interface CpuTimes {
  busy: number;
  total: number;
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
 * What differs between operating systems. Filesystems and processes come from calls that
 * cannot be cancelled (systeminformation spawns df or PowerShell): the caller shares one
 * call between overlapping runs and races it against each run's signal.
 */
export interface HostPlatform {
  readonly os: 'linux' | 'windows';
  cpuTimes(signal: AbortSignal): Promise<CpuTimes[]>;
  /** 1, 5 and 15 minute load averages; undefined where the OS has none (Windows). */
  loadAverage(): readonly [number, number, number] | undefined;
  processCount(): Promise<number>;
  filesystems(): Promise<FilesystemSample[]>;
}
