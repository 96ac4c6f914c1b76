import type { CpuTimes } from './host-metrics.os.js';
import type { InterfaceSample } from './host-metrics.gather.js';

interface Previous {
  cpu?: CpuTimes[];
  /** CPU ratios need no clock; byte rates do, so the time travels with the counters. */
  network?: { atMs: number; byIface: Map<string, InterfaceSample> };
}

export interface Rates {
  /** No earlier sample for this config: nothing to difference against yet. */
  first: boolean;
  cpu?: { total: number; cores: (number | undefined)[] };
  network: Map<string, { rxBytesPerSecond: number; txBytesPerSecond: number }>;
}

// Bounded: a config that is edited leaves its old key behind, and the agent runs for months.
const MAX_KEYS = 256;
const previous = new Map<string, Previous>();

function busyRatio(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  const busy = after.busy - before.busy;
  if (!(total > 0) || busy < 0) return undefined;
  return Math.min(1, Math.max(0, busy / total));
}

/**
 * CPU usage and network rates from counters, against the previous run of the same config
 * (two checks with different intervals each get their own interval). The first run, a
 * counter that went backwards (reboot, wrap, interface re-created) or a changed core count
 * give no value rather than a wrong one.
 */
export function computeRates(key: string, atMs: number, cpu: CpuTimes[] | undefined, network: InterfaceSample[] | undefined): Rates {
  const before = previous.get(key);
  const rates: Rates = { first: before === undefined, network: new Map() };

  if (before?.cpu && cpu && before.cpu.length === cpu.length && cpu.length > 0) {
    const cores = cpu.map((c, i) => busyRatio(before.cpu![i]!, c));
    const sum = (list: CpuTimes[]) => list.reduce((acc, c) => ({ busy: acc.busy + c.busy, total: acc.total + c.total }), { busy: 0, total: 0 });
    const total = busyRatio(sum(before.cpu), sum(cpu));
    if (total !== undefined) rates.cpu = { total, cores };
  }
  const seconds = before?.network ? (atMs - before.network.atMs) / 1000 : 0;
  if (before?.network && network && seconds > 0) {
    for (const now of network) {
      const then = before.network.byIface.get(now.iface);
      if (!then || now.rxBytes < then.rxBytes || now.txBytes < then.txBytes) continue;
      rates.network.set(now.iface, {
        rxBytesPerSecond: (now.rxBytes - then.rxBytes) / seconds,
        txBytesPerSecond: (now.txBytes - then.txBytes) / seconds,
      });
    }
  }

  // keep the old counters of a part that was not gathered this time, so the next run still has a base
  const next: Previous = {
    cpu: cpu ?? before?.cpu,
    network: network ? { atMs, byIface: new Map(network.map((n) => [n.iface, n])) } : before?.network,
  };
  previous.delete(key);
  previous.set(key, next);
  if (previous.size > MAX_KEYS) previous.delete(previous.keys().next().value!);
  return rates;
}

/** For tests: forget every earlier sample. */
export function resetRates(): void {
  previous.clear();
}
