import { evaluateThresholds, worstStatus, type CheckStatus, type Reason, type ThresholdRange } from '#rounds/common';
import { definePlugin, type CheckContext, type CheckOutcome, type Metric } from '../plugin.js';
import { hostMetricsSchema, type HostMetricsConfig, type PercentThresholds } from './host-metrics.schema.js';
import { filesystemWanted, gatherHost, PARTS, type HostSample } from './host-metrics.gather.js';
import { computeRates, type Rates } from './host-metrics.rates.js';
import type { FilesystemSample, HostPlatform } from './host-metrics.os.js';
import { linuxPlatform } from './host-metrics.linux.js';
import { windowsPlatform } from './host-metrics.windows.js';

interface Breach {
  status: 'WARNING' | 'CRITICAL';
  text: string;
}

const GIB = 1024 ** 3;

function pct(ratio: number): string {
  return (ratio * 100).toFixed(1);
}

/** "disk / 93.2% used > critical 90%": what is over, by the figures, against which limit. */
function breachText(what: string, percent: number, level: 'warning' | 'critical', range: ThresholdRange): string {
  const value = `${what} ${percent.toFixed(1)}% used`;
  if (range.inside) return `${value}, inside ${level} range ${range.text}`;
  if (percent > range.end) return `${value} > ${level} ${range.end}%`;
  return `${value} < ${level} ${range.start}%`;
}

function check(what: string, ratio: number, thresholds: PercentThresholds | undefined, breaches: Breach[]): void {
  if (!thresholds) return;
  const percent = ratio * 100;
  const verdict = evaluateThresholds(percent, thresholds.warning, thresholds.critical);
  if (verdict === 'CRITICAL') breaches.push({ status: verdict, text: breachText(what, percent, 'critical', thresholds.critical!) });
  if (verdict === 'WARNING') breaches.push({ status: verdict, text: breachText(what, percent, 'warning', thresholds.warning!) });
}

function selectFilesystems(all: FilesystemSample[], config: HostMetricsConfig['filesystems']): FilesystemSample[] {
  const seen = new Set<string>();
  const wanted = filesystemWanted(config);
  return all.filter((fs) => {
    if (seen.has(fs.mount)) return false;
    if (!wanted(fs.mount, fs.fstype, fs.pseudo)) return false;
    seen.add(fs.mount);
    return true;
  });
}

function usedRatio(fs: FilesystemSample): number {
  // as df: root-reserved blocks count neither as used nor as available
  const denominator = fs.usedBytes + fs.freeBytes;
  return denominator > 0 ? fs.usedBytes / denominator : 0;
}

function uptimeText(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}

interface Evaluation {
  metrics: Metric[];
  breaches: Breach[];
  facts: string[];
  /** Parts with thresholds that could not be judged. */
  unjudged: string[];
}

function evaluate(sample: HostSample, rates: Rates, config: HostMetricsConfig): Evaluation {
  const metrics: Metric[] = [];
  const breaches: Breach[] = [];
  const facts: string[] = [];
  const unjudged: string[] = [];
  const t = config.thresholds;
  const missing = new Set(sample.missing.map((m) => m.part));

  if (rates.cpu) {
    metrics.push({ name: 'cpu_usage_ratio', value: rates.cpu.total, unit: 'ratio' });
    if (config.perCore) {
      rates.cpu.cores.forEach((ratio, core) => {
        if (ratio !== undefined) metrics.push({ name: 'cpu_core_usage_ratio', value: ratio, unit: 'ratio', labels: { core: String(core) } });
      });
    }
    facts.push(`cpu ${pct(rates.cpu.total)}%`);
    check('cpu', rates.cpu.total, t.cpu, breaches);
  } else if (!missing.has('cpu')) {
    facts.push('cpu: first sample, usage from the next run');
  }
  if (sample.cpuFacts) {
    metrics.push({ name: 'cpu_cores', value: sample.cpuFacts.logicalCores, unit: '' });
    if (sample.cpuFacts.physicalCores) metrics.push({ name: 'cpu_physical_cores', value: sample.cpuFacts.physicalCores, unit: '' });
  }

  if (sample.load) {
    const [l1, l5, l15] = sample.load;
    metrics.push({ name: 'load1', value: l1, unit: '' }, { name: 'load5', value: l5, unit: '' }, { name: 'load15', value: l15, unit: '' });
    facts.push(`load ${l1.toFixed(2)} ${l5.toFixed(2)} ${l15.toFixed(2)}`);
  }

  const mem = sample.memory;
  if (mem) {
    const used = Math.max(0, mem.totalBytes - mem.availableBytes);
    const ratio = mem.totalBytes > 0 ? used / mem.totalBytes : 0;
    metrics.push(
      { name: 'memory_total_bytes', value: mem.totalBytes, unit: 'bytes' },
      { name: 'memory_available_bytes', value: mem.availableBytes, unit: 'bytes' },
      { name: 'memory_used_bytes', value: used, unit: 'bytes' },
      { name: 'memory_used_ratio', value: ratio, unit: 'ratio' },
      { name: 'swap_total_bytes', value: mem.swapTotalBytes, unit: 'bytes' },
      { name: 'swap_used_bytes', value: mem.swapUsedBytes, unit: 'bytes' },
      { name: 'swap_free_bytes', value: mem.swapFreeBytes, unit: 'bytes' },
    );
    facts.push(`memory ${pct(ratio)}% used (${(used / GIB).toFixed(1)} of ${(mem.totalBytes / GIB).toFixed(1)} GiB)`);
    check('memory', ratio, t.memory, breaches);
    if (mem.swapTotalBytes > 0) {
      const swapRatio = mem.swapUsedBytes / mem.swapTotalBytes;
      metrics.push({ name: 'swap_used_ratio', value: swapRatio, unit: 'ratio' });
      facts.push(`swap ${pct(swapRatio)}%`);
      check('swap', swapRatio, t.swap, breaches);
    } else {
      // no swap is not "0% used of something": a swap threshold has nothing to judge
      facts.push('no swap');
    }
  } else if (t.memory || t.swap) {
    unjudged.push('memory');
  }

  if (sample.filesystems) {
    const selected = selectFilesystems(sample.filesystems, config.filesystems);
    let fullest: { mount: string; ratio: number } | undefined;
    for (const fs of selected) {
      const labels = { mount: fs.mount, fstype: fs.fstype };
      const ratio = usedRatio(fs);
      metrics.push(
        { name: 'filesystem_size_bytes', value: fs.sizeBytes, unit: 'bytes', labels },
        { name: 'filesystem_used_bytes', value: fs.usedBytes, unit: 'bytes', labels },
        { name: 'filesystem_free_bytes', value: fs.freeBytes, unit: 'bytes', labels },
        { name: 'filesystem_used_ratio', value: ratio, unit: 'ratio', labels },
      );
      if (!fullest || ratio > fullest.ratio) fullest = { mount: fs.mount, ratio };
      check(`disk ${fs.mount}`, ratio, Object.hasOwn(t.disks, fs.mount) ? t.disks[fs.mount] : t.disk, breaches);
    }
    facts.push(
      fullest
        ? `${selected.length} filesystem${selected.length === 1 ? '' : 's'} (fullest ${fullest.mount} ${pct(fullest.ratio)}%)`
        : 'no filesystems selected',
    );
  } else if (t.disk || Object.keys(t.disks).length > 0) {
    unjudged.push('filesystems');
  }

  if (sample.network) {
    for (const iface of sample.network) {
      const labels = { interface: iface.iface };
      const rate = rates.network.get(iface.iface);
      if (rate) {
        metrics.push(
          { name: 'network_receive_bytes_per_second', value: rate.rxBytesPerSecond, unit: 'bytes_per_second', labels },
          { name: 'network_transmit_bytes_per_second', value: rate.txBytesPerSecond, unit: 'bytes_per_second', labels },
        );
      }
      metrics.push(
        { name: 'network_receive_errors_total', value: iface.rxErrors, unit: 'counter', labels },
        { name: 'network_transmit_errors_total', value: iface.txErrors, unit: 'counter', labels },
      );
    }
    facts.push(`${sample.network.length} interface${sample.network.length === 1 ? '' : 's'}`);
  }

  metrics.push({ name: 'uptime_seconds', value: sample.uptimeSeconds, unit: 'seconds' });
  if (sample.processes !== undefined) {
    metrics.push({ name: 'processes', value: sample.processes, unit: '' });
    facts.push(`${sample.processes} processes`);
  }
  facts.push(`up ${uptimeText(sample.uptimeSeconds)}`);
  if (rates.cpu === undefined && missing.has('cpu') && t.cpu) unjudged.push('cpu');
  return { metrics, breaches, facts, unjudged };
}

function conclude(sample: HostSample, e: Evaluation, gatherSeconds: number): CheckOutcome {
  const metrics: Metric[] = [...e.metrics, { name: 'gather_seconds', value: gatherSeconds, unit: 'seconds' }];
  const notGathered = sample.missing.length ? `not gathered: ${sample.missing.map((m) => `${m.part} (${m.message})`).join(', ')}` : '';
  const timedOut = sample.missing.some((m) => m.timedOut);
  const tail = (text: string) => [text, notGathered].filter(Boolean).join('; ');

  if (e.breaches.length > 0) {
    const ordered = [...e.breaches.filter((b) => b.status === 'CRITICAL'), ...e.breaches.filter((b) => b.status === 'WARNING')];
    const status = worstStatus(...ordered.map((b) => b.status));
    return { status, reason: 'threshold', summary: tail(ordered.map((b) => b.text).join('; ')), metrics };
  }
  const allMissing = sample.missing.length >= PARTS.length;
  if (e.unjudged.length > 0 || allMissing) {
    const reason: Reason = timedOut ? 'timeout' : 'plugin_error';
    const what = e.unjudged.length > 0 ? `thresholds on ${e.unjudged.join(', ')} could not be checked` : 'nothing could be gathered';
    return { status: 'UNKNOWN', reason, summary: tail(what), metrics };
  }
  const status: CheckStatus = 'OK';
  return { status, reason: 'ok', summary: tail(e.facts.join(', ')), metrics };
}

function platformFor(os: NodeJS.Platform): HostPlatform {
  // other POSIX systems get the Linux one: what needs /proc is reported as not gathered
  return os === 'win32' ? windowsPlatform : linuxPlatform;
}

/** Runs one host-metrics check on `platform`; exported for tests that pass a fake platform. */
export async function runHostMetrics(config: HostMetricsConfig, ctx: CheckContext, platform: HostPlatform): Promise<CheckOutcome> {
  const started = ctx.now();
  const sample = await gatherHost(platform, config.network, ctx.signal, config.filesystems);
  const rates = computeRates(`${platform.os}:${JSON.stringify(config)}`, ctx.now(), sample.cpu, sample.network);
  for (const m of sample.missing) ctx.log.warn(`host-metrics: ${m.part} ${m.message}`);
  return conclude(sample, evaluate(sample, rates, config), Math.max(0, ctx.now() - started) / 1000);
}

export const hostMetricsPlugin = definePlugin({
  name: 'host-metrics',
  version: '1.0.0',
  description: 'CPU, load, memory, swap, filesystems, network, uptime and processes of the agent host, with thresholds on CPU, memory, swap and disks.',
  configSchema: hostMetricsSchema,
  metrics: [
    { name: 'cpu_usage_ratio', unit: 'ratio', help: 'Busy share of all cores since the previous run (0..1).' },
    { name: 'cpu_core_usage_ratio', unit: 'ratio', help: 'Busy share of one core since the previous run (with perCore).', labels: ['core'] },
    { name: 'cpu_cores', unit: '', help: 'Logical CPU cores.' },
    { name: 'cpu_physical_cores', unit: '', help: 'Physical CPU cores, where the OS tells them.' },
    { name: 'load1', unit: '', help: 'Load average over 1 minute (not on Windows).' },
    { name: 'load5', unit: '', help: 'Load average over 5 minutes (not on Windows).' },
    { name: 'load15', unit: '', help: 'Load average over 15 minutes (not on Windows).' },
    { name: 'memory_total_bytes', unit: 'bytes', help: 'Physical memory.' },
    { name: 'memory_available_bytes', unit: 'bytes', help: 'Memory available to new programs without swapping.' },
    { name: 'memory_used_bytes', unit: 'bytes', help: 'Memory in use: total minus available.' },
    { name: 'memory_used_ratio', unit: 'ratio', help: 'Memory in use as a share of the total (0..1).' },
    { name: 'swap_total_bytes', unit: 'bytes', help: 'Swap space.' },
    { name: 'swap_used_bytes', unit: 'bytes', help: 'Swap space in use.' },
    { name: 'swap_free_bytes', unit: 'bytes', help: 'Swap space free.' },
    { name: 'swap_used_ratio', unit: 'ratio', help: 'Swap in use as a share of the total (0..1), when there is swap.' },
    { name: 'filesystem_size_bytes', unit: 'bytes', help: 'Size of a filesystem.', labels: ['mount', 'fstype'] },
    { name: 'filesystem_used_bytes', unit: 'bytes', help: 'Space used on a filesystem.', labels: ['mount', 'fstype'] },
    { name: 'filesystem_free_bytes', unit: 'bytes', help: 'Space on a filesystem available to unprivileged users.', labels: ['mount', 'fstype'] },
    { name: 'filesystem_used_ratio', unit: 'ratio', help: 'Used share of a filesystem (0..1).', labels: ['mount', 'fstype'] },
    { name: 'network_receive_bytes_per_second', unit: 'bytes_per_second', help: 'Bytes received per second since the previous run.', labels: ['interface'] },
    { name: 'network_transmit_bytes_per_second', unit: 'bytes_per_second', help: 'Bytes sent per second since the previous run.', labels: ['interface'] },
    { name: 'network_receive_errors_total', unit: 'counter', help: 'Receive errors on an interface since boot.', labels: ['interface'] },
    { name: 'network_transmit_errors_total', unit: 'counter', help: 'Transmit errors on an interface since boot.', labels: ['interface'] },
    { name: 'uptime_seconds', unit: 'seconds', help: 'Time since the host booted.' },
    { name: 'processes', unit: '', help: 'Processes running on the host.' },
    { name: 'gather_seconds', unit: 'seconds', help: 'Time this check took to gather the figures (its own cost).' },
  ],
  run: (config, ctx) => runHostMetrics(config, ctx, platformFor(process.platform)),
});
