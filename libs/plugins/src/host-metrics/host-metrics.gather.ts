import os from 'node:os';
import type {
  CpuFacts,
  CpuTimes,
  FilesystemFilter,
  FilesystemSample,
  HostPlatform,
  InterfaceSample,
  MemorySample,
  NetworkInterface,
} from './host-metrics.os.js';
import type { GlobList, HostMetricsConfig } from './host-metrics.schema.js';

export type { CpuFacts, InterfaceSample, MemorySample };

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
 * Resolves with the call's result, or as soon as the run's signal fires. A statfs on a dead
 * NFS mount or a PowerShell on Windows cannot be cancelled, so the call is left to finish
 * on its own.
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
    running
      .then(
        (value) => resolve({ ok: true, value }),
        (e: unknown) => resolve({ ok: false, timedOut: signal.aborted, message: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * One call at a time per kind: if statfs is stuck on a dead mount, later runs wait for the
 * same call instead of piling up another one each interval.
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

interface PlatformCalls {
  // The CPU model does not change while the agent runs.
  cpuFacts: () => Promise<CpuFacts>;
  // Interface names change rarely (and on Windows listing them is slow).
  interfaces: () => Promise<NetworkInterface[]>;
  memory: () => Promise<MemorySample>;
  processes: () => Promise<number>;
  /** One flight per filesystem selection: each may look at different mounts. */
  filesystems: Map<string, () => Promise<FilesystemSample[]>>;
}

const calls = new WeakMap<HostPlatform, PlatformCalls>();

function platformCalls(platform: HostPlatform): PlatformCalls {
  let c = calls.get(platform);
  if (!c) {
    c = {
      cpuFacts: cachedFact(Infinity, () => platform.cpuFacts()),
      interfaces: cachedFact(5 * 60 * 1000, () => platform.networkInterfaces()),
      memory: singleFlight(() => platform.memory()),
      processes: singleFlight(() => platform.processCount()),
      filesystems: new Map(),
    };
    calls.set(platform, c);
  }
  return c;
}

export type FilesystemSelection = HostMetricsConfig['filesystems'];

/** The plugin's filesystem selection, but for one mount (the plugin also drops duplicate mount points). */
export function filesystemWanted(config: FilesystemSelection): FilesystemFilter {
  return (mount, fstype, pseudo) => {
    if (config.excludeMounts.test(mount) || config.excludeTypes.test(fstype)) return false;
    if (!config.includeMounts.empty && !config.includeMounts.test(mount)) return false;
    if (!config.includeTypes.empty && !config.includeTypes.test(fstype)) return false;
    // naming a type in includeTypes is asking for it, pseudo or not
    if (pseudo && !config.includePseudo && config.includeTypes.empty) return false;
    return true;
  };
}

// Bounded like the rate state: an edited config leaves its old key behind.
const MAX_FILESYSTEM_FLIGHTS = 64;

function filesystemsFlight(platform: HostPlatform, selection: FilesystemSelection | undefined): () => Promise<FilesystemSample[]> {
  const flights = platformCalls(platform).filesystems;
  const key = JSON.stringify(selection ?? null);
  let flight = flights.get(key);
  if (!flight) {
    const wanted = selection ? filesystemWanted(selection) : undefined;
    flight = singleFlight(() => platform.filesystems(wanted));
    flights.set(key, flight);
    if (flights.size > MAX_FILESYSTEM_FLIGHTS) flights.delete(flights.keys().next().value!);
  }
  return flight;
}

async function networkCounters(platform: HostPlatform, interfaces: () => Promise<NetworkInterface[]>, selection: NetworkSelection): Promise<InterfaceSample[]> {
  const names = (await interfaces())
    .filter((i) => selection.includeLoopback || !i.internal)
    .map((i) => i.iface)
    .filter((name) => !selection.excludeInterfaces.test(name))
    .filter((name) => selection.includeInterfaces.empty || selection.includeInterfaces.test(name));
  if (names.length === 0) return [];
  return platform.networkCounters(names);
}

/** Gathers everything in parallel; returns when all parts are in or the signal fires. */
export async function gatherHost(
  platform: HostPlatform,
  network: NetworkSelection,
  signal: AbortSignal,
  filesystemSelection?: FilesystemSelection,
): Promise<HostSample> {
  const shared = platformCalls(platform);
  const [cpu, facts, mem, filesystems, net, processes] = await Promise.all([
    settle(signal, () => platform.cpuTimes(signal)),
    settle(signal, shared.cpuFacts),
    settle(signal, shared.memory),
    settle(signal, filesystemsFlight(platform, filesystemSelection)),
    settle(signal, () => networkCounters(platform, shared.interfaces, network)),
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
