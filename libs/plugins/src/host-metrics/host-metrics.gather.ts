import os from 'node:os';
import si from 'systeminformation';
import type { CpuTimes, FilesystemSample, HostPlatform } from './host-metrics.os.js';
import type { GlobList } from './host-metrics.schema.js';

export interface MemorySample {
  totalBytes: number;
  availableBytes: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
  swapFreeBytes: number;
}

export interface InterfaceSample {
  iface: string;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
}

export interface CpuFacts {
  logicalCores: number;
  physicalCores?: number;
}

export const PARTS = ['cpu', 'memory', 'filesystems', 'network', 'processes'] as const;
export type Part = (typeof PARTS)[number];

export interface Missing {
  part: Part;
  /** Cut off at the deadline, or failed. */
  timedOut: boolean;
  message: string;
}

/** One look at the host. A part that did not finish in time is absent and listed in `missing`. */
export interface HostSample {
  cpu?: CpuTimes[];
  cpuFacts?: CpuFacts;
  load?: readonly [number, number, number];
  memory?: MemorySample;
  filesystems?: FilesystemSample[];
  network?: InterfaceSample[];
  uptimeSeconds: number;
  processes?: number;
  missing: Missing[];
}

export interface NetworkSelection {
  includeInterfaces: GlobList;
  excludeInterfaces: GlobList;
  includeLoopback: boolean;
}

type Settled<T> = { ok: true; value: T } | { ok: false; timedOut: boolean; message: string };

/**
 * Resolves with the call's result, or as soon as the run's signal fires. systeminformation
 * cannot be cancelled (it spawns df, PowerShell…), so the call is left to finish on its own.
 */
function settle<T>(signal: AbortSignal, start: () => Promise<T>): Promise<Settled<T>> {
  if (signal.aborted) return Promise.resolve({ ok: false, timedOut: true, message: 'deadline reached before it started' });
  return new Promise((resolve) => {
    const onAbort = () => resolve({ ok: false, timedOut: true, message: 'did not finish before the deadline' });
    signal.addEventListener('abort', onAbort, { once: true });
    let running: Promise<T>;
    try {
      running = start();
    } catch (e) {
      running = Promise.reject(e);
    }
    running.then(
      (value) => resolve({ ok: true, value }),
      (e: unknown) => resolve({ ok: false, timedOut: signal.aborted, message: e instanceof Error ? e.message : String(e) }),
    ).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * One call at a time per kind: if df is stuck on a dead mount, later runs wait for the same
 * call instead of piling up another df each interval.
 */
function singleFlight<T>(start: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= start().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** A fact that changes rarely, fetched again after `ttlMs`; a failure is retried next time. */
function cachedFact<T>(ttlMs: number, fetch: () => Promise<T>): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > ttlMs) {
      const value = fetch();
      cached = { at: now, value };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}

// The CPU model does not change while the agent runs.
const cpuFacts = cachedFact(Infinity, async (): Promise<CpuFacts> => {
  const cpu = await si.cpu();
  return { logicalCores: os.cpus().length || cpu.cores, physicalCores: cpu.physicalCores || undefined };
});

// si.networkInterfaces() takes ~0.4 s (it reads a dozen files per interface); names change rarely.
const interfaces = cachedFact(5 * 60 * 1000, () => si.networkInterfaces() as Promise<si.Systeminformation.NetworkInterfacesData[]>);

const memory = singleFlight(async (): Promise<MemorySample> => {
  const m = await si.mem();
  return {
    totalBytes: m.total,
    availableBytes: m.available,
    swapTotalBytes: m.swaptotal,
    swapUsedBytes: m.swapused,
    swapFreeBytes: m.swapfree,
  };
});

const flights = new WeakMap<HostPlatform, { filesystems: () => Promise<FilesystemSample[]>; processes: () => Promise<number> }>();

function platformFlights(platform: HostPlatform) {
  let f = flights.get(platform);
  if (!f) {
    f = { filesystems: singleFlight(() => platform.filesystems()), processes: singleFlight(() => platform.processCount()) };
    flights.set(platform, f);
  }
  return f;
}

async function networkCounters(selection: NetworkSelection): Promise<InterfaceSample[]> {
  const names = (await interfaces())
    .filter((i) => selection.includeLoopback || !i.internal)
    .map((i) => i.iface)
    .filter((name) => !selection.excludeInterfaces.test(name))
    .filter((name) => selection.includeInterfaces.empty || selection.includeInterfaces.test(name));
  // an empty list would make si fall back to the default interface
  if (names.length === 0) return [];
  const stats = await si.networkStats(names.join(','));
  return stats
    .filter((s) => names.includes(s.iface))
    .map((s) => ({ iface: s.iface, rxBytes: s.rx_bytes, txBytes: s.tx_bytes, rxErrors: s.rx_errors, txErrors: s.tx_errors }));
}

/** Gathers everything in parallel; returns when all parts are in or the signal fires. */
export async function gatherHost(platform: HostPlatform, network: NetworkSelection, signal: AbortSignal): Promise<HostSample> {
  const shared = platformFlights(platform);
  const [cpu, facts, mem, filesystems, net, processes] = await Promise.all([
    settle(signal, () => platform.cpuTimes(signal)),
    settle(signal, cpuFacts),
    settle(signal, memory),
    settle(signal, shared.filesystems),
    settle(signal, () => networkCounters(network)),
    settle(signal, shared.processes),
  ]);
  const sample: HostSample = { uptimeSeconds: os.uptime(), missing: [] };
  const load = platform.loadAverage();
  if (load) sample.load = load;
  const take = <T>(part: Part, result: Settled<T>, put: (value: T) => void) => {
    if (result.ok) put(result.value);
    else sample.missing.push({ part, timedOut: result.timedOut, message: result.message });
  };
  take('cpu', cpu, (v) => (sample.cpu = v));
  if (facts.ok) sample.cpuFacts = facts.value;
  take('memory', mem, (v) => (sample.memory = v));
  take('filesystems', filesystems, (v) => (sample.filesystems = v));
  take('network', net, (v) => (sample.network = v));
  take('processes', processes, (v) => (sample.processes = v));
  return sample;
}
