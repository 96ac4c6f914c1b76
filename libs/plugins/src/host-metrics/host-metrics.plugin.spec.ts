import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { configErrors, metric, runCheck } from '../testing/harness.js';
import { runPlugin, type RunReport } from '../runner.js';
import { definePlugin, type Plugin } from '../plugin.js';
import { hostMetricsPlugin, runHostMetrics } from './host-metrics.plugin.js';
import { hostMetricsSchema } from './host-metrics.schema.js';
import { resetRates } from './host-metrics.rates.js';
import {
  isLinuxPseudoFilesystem,
  linuxPlatform,
  parseCpuinfoPhysicalCores,
  parseMeminfo,
  parseMountinfo,
  parseNetDev,
  parseProcStat,
} from './host-metrics.linux.js';
import type { FilesystemSample, HostPlatform } from './host-metrics.os.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function names(report: RunReport): string[] {
  return report.outcome.metrics.map((m) => m.name);
}

/** This machine's Linux platform with a few parts replaced. */
function fakePlatform(overrides: Partial<HostPlatform>): HostPlatform {
  return {
    ...linuxPlatform,
    os: 'linux',
    cpuTimes: async () => [{ busy: 1, total: 2 }],
    loadAverage: () => [0.1, 0.2, 0.3],
    processCount: async () => 5,
    filesystems: async () => [],
    ...overrides,
  };
}

/** The plugin, but gathering from `platform` instead of the real OS. */
function onPlatform(platform: HostPlatform): Plugin {
  return definePlugin({ ...hostMetricsPlugin, run: (config, ctx) => runHostMetrics(config, ctx, platform) });
}

beforeEach(() => resetRates());

describe('host-metrics against this Linux machine', () => {
  it('run() reports memory_total_bytes equal to MemTotal in /proc/meminfo', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const kib = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    assert.equal(metric(report, 'memory_total_bytes'), kib * 1024);
    const available = metric(report, 'memory_available_bytes');
    assert.equal(metric(report, 'memory_used_bytes'), kib * 1024 - available);
    assert.ok(Math.abs(metric(report, 'memory_used_ratio') - (kib * 1024 - available) / (kib * 1024)) < 1e-9);
  });

  it('run() reports load1/5/15 close to /proc/loadavg', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const proc = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
    ['load1', 'load5', 'load15'].forEach((name, i) => {
      const tolerance = 0.5 + proc[i]! * 0.15;
      assert.ok(Math.abs(metric(report, name) - proc[i]!) <= tolerance, `${name} ${metric(report, name)} vs /proc/loadavg ${proc[i]}`);
    });
  });

  it('run() reports size, used and free bytes of / that match statfs', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const st = statfsSync('/');
    const labels = { mount: '/' };
    const MiB = 1024 ** 2;
    assert.ok(Math.abs(metric(report, 'filesystem_size_bytes', labels) - st.blocks * st.bsize) < MiB, 'size');
    assert.ok(Math.abs(metric(report, 'filesystem_used_bytes', labels) - (st.blocks - st.bfree) * st.bsize) < 256 * MiB, 'used');
    assert.ok(Math.abs(metric(report, 'filesystem_free_bytes', labels) - st.bavail * st.bsize) < 256 * MiB, 'free');
    const used = metric(report, 'filesystem_used_bytes', labels);
    const ratio = metric(report, 'filesystem_used_ratio', labels);
    assert.ok(Math.abs(ratio - used / (used + metric(report, 'filesystem_free_bytes', labels))) < 1e-9, 'ratio as df computes it');
  });

  it('run() reports uptime, process count and cores that match /proc and os', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(Math.abs(metric(report, 'uptime_seconds') - uptime) < 2, 'uptime');
    const procs = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;
    assert.ok(Math.abs(metric(report, 'processes') - procs) <= Math.max(10, procs * 0.25), `processes ${metric(report, 'processes')} vs ${procs}`);
    assert.equal(metric(report, 'cpu_cores'), os.cpus().length);
  });

  it('run() skips pseudo filesystems by default', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const types = report.outcome.metrics.filter((m) => m.name === 'filesystem_size_bytes').map((m) => m.labels!.fstype!);
    assert.ok(types.length > 0);
    for (const t of types) assert.equal(isLinuxPseudoFilesystem(t), false, `${t} is reported`);
  });

  it('run() reports no rates on its first run and CPU and network rates on the next run of the same config', async () => {
    const config = { network: { includeLoopback: true } };
    const first = await runCheck(hostMetricsPlugin, config);
    assert.equal(first.outcome.status, 'OK');
    assert.ok(!names(first).includes('cpu_usage_ratio'), 'no CPU usage on the first run');
    assert.ok(!names(first).some((n) => n.endsWith('_per_second')), 'no network rates on the first run');
    assert.match(first.outcome.summary, /cpu: first sample, usage from the next run/);
    metric(first, 'network_receive_errors_total', { interface: 'lo' });

    await sleep(600);
    const second = await runCheck(hostMetricsPlugin, config);
    const cpu = metric(second, 'cpu_usage_ratio');
    assert.ok(cpu >= 0 && cpu <= 1, `cpu_usage_ratio ${cpu}`);
    for (let core = 0; core < os.cpus().length; core++) {
      const ratio = metric(second, 'cpu_core_usage_ratio', { core: String(core) });
      assert.ok(ratio >= 0 && ratio <= 1, `core ${core}: ${ratio}`);
    }
    assert.ok(metric(second, 'network_receive_bytes_per_second', { interface: 'lo' }) >= 0);
    assert.ok(metric(second, 'network_transmit_bytes_per_second', { interface: 'lo' }) >= 0);
    assert.match(second.outcome.summary, /^cpu \d+\.\d%, load /);

    const other = await runCheck(hostMetricsPlugin, { ...config, perCore: false });
    assert.ok(!names(other).includes('cpu_usage_ratio'), 'another config has rate state of its own');
  });

  it('run() leaves out per-core usage when perCore is false', async () => {
    await runCheck(hostMetricsPlugin, { perCore: false });
    // /proc/stat counts in 10 ms ticks and a gather takes a few ms: let at least one tick pass
    await sleep(50);
    const report = await runCheck(hostMetricsPlugin, { perCore: false });
    metric(report, 'cpu_usage_ratio');
    assert.ok(!names(report).includes('cpu_core_usage_ratio'));
  });

  it('run() leaves out loopback interfaces unless includeLoopback is set', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    assert.ok(!report.outcome.metrics.some((m) => m.labels?.interface === 'lo'));
  });

  it('run() reports its own gather time as gather_seconds', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const seconds = metric(report, 'gather_seconds');
    assert.ok(seconds > 0 && seconds < 5, `gather_seconds ${seconds}`);
  });

  it('run() drops filesystems by excluded mount or type', async () => {
    for (const filesystems of [{ excludeMounts: ['/'] }, { excludeTypes: ['EXT*', 'xfs', 'btrfs', 'overlay'] }]) {
      const report = await runCheck(hostMetricsPlugin, { filesystems });
      assert.ok(!report.outcome.metrics.some((m) => m.labels?.mount === '/'), JSON.stringify(filesystems));
    }
  });
});

describe('host-metrics reads /proc and statfs itself', () => {
  it('run() reports swap and available memory as /proc/meminfo has them', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    assert.equal(metric(report, 'swap_total_bytes'), kib('SwapTotal'));
    assert.ok(Math.abs(metric(report, 'swap_free_bytes') - kib('SwapFree')) < 64 * 1024 ** 2, 'swap free');
    assert.equal(metric(report, 'swap_used_bytes'), metric(report, 'swap_total_bytes') - metric(report, 'swap_free_bytes'));
    assert.ok(Math.abs(metric(report, 'memory_available_bytes') - kib('MemAvailable')) < 256 * 1024 ** 2, 'available');
  });

  it('run() reports the error counters of each interface as /sys/class/net has them', async () => {
    const report = await runCheck(hostMetricsPlugin, { network: { includeLoopback: true } });
    const reported = report.outcome.metrics.filter((m) => m.name === 'network_receive_errors_total').map((m) => m.labels!.interface!);
    assert.deepEqual(reported.sort(), [...new Set(Object.keys(os.networkInterfaces()).map((n) => n.split(':')[0]!))].sort());
    for (const iface of reported) {
      const counter = (name: string) => Number(readFileSync(`/sys/class/net/${iface}/statistics/${name}`, 'utf8'));
      assert.equal(metric(report, 'network_receive_errors_total', { interface: iface }), counter('rx_errors'), iface);
      assert.equal(metric(report, 'network_transmit_errors_total', { interface: iface }), counter('tx_errors'), iface);
    }
  });

  it('run() reports the same fixed filesystems as `df -kPTx squashfs`, with the same figures', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const df = execFileSync('df', ['-kPTx', 'squashfs'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, timeout: 10_000 })
      .split('\n')
      .slice(1)
      .map((line) => /^(.+?)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(?:\d+%|-)\s+(.+)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ type: m[2]!, size: Number(m[3]) * 1024, mount: m[6]! }))
      .filter((fs) => !isLinuxPseudoFilesystem(fs.type));
    const sizes = report.outcome.metrics.filter((m) => m.name === 'filesystem_size_bytes');
    assert.deepEqual(sizes.map((m) => m.labels!.mount).sort(), df.map((fs) => fs.mount).sort());
    for (const fs of df) {
      assert.ok(Math.abs(metric(report, 'filesystem_size_bytes', { mount: fs.mount }) - fs.size) < 1024 ** 2, fs.mount);
      assert.equal(sizes.find((m) => m.labels!.mount === fs.mount)!.labels!.fstype, fs.type);
    }
  });

  it('run() reports physical cores as /proc/cpuinfo counts them', async () => {
    const report = await runCheck(hostMetricsPlugin, {});
    const cores = parseCpuinfoPhysicalCores(readFileSync('/proc/cpuinfo', 'utf8'));
    if (cores !== undefined) assert.equal(metric(report, 'cpu_physical_cores'), cores);
  });

  it('a gather on Linux starts no child process and does not load systeminformation', async () => {
    // In a fresh node process, every way to start a process (ChildProcess#spawn under
    // spawn/exec/execFile/fork, and the spawn_sync binding under spawnSync/execSync/
    // execFileSync) is wrapped before the plugin is imported; a self-check proves the
    // wrappers see both kinds. The old systeminformation-based gather started ~11 per run.
    const plugin = new URL('./host-metrics.plugin.js', import.meta.url).href;
    const runner = new URL('../runner.js', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const cp = require('node:child_process');
      let started = [];
      const spawn = cp.ChildProcess.prototype.spawn;
      cp.ChildProcess.prototype.spawn = function (o) { started.push(o.file); return spawn.call(this, o); };
      const binding = process.binding('spawn_sync');
      const spawnSync = binding.spawn;
      binding.spawn = function (o) { started.push(o.file); return spawnSync.call(this, o); };
      cp.execSync('true');
      await new Promise((resolve) => cp.execFile('true', resolve));
      const selfCheck = started.length;
      started = [];
      const { hostMetricsPlugin } = await import(${JSON.stringify(plugin)});
      const { runPlugin } = await import(${JSON.stringify(runner)});
      const outcomes = [];
      for (const config of [{}, { filesystems: { includePseudo: true }, network: { includeLoopback: true } }, {}]) {
        const report = await runPlugin(hostMetricsPlugin, hostMetricsPlugin.configSchema.parse(config), { timeoutMs: 10000 });
        outcomes.push(report.outcome.status + ' ' + report.outcome.summary);
      }
      const loaded = Object.keys(require.cache).filter((k) => k.includes('/node_modules/systeminformation/'));
      console.log(JSON.stringify({ selfCheck, started, loaded, outcomes }));
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { cwd: fileURLToPath(new URL('.', import.meta.url)), timeout: 60_000 },
        (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    const result = JSON.parse(out.trim().split('\n').pop()!) as { selfCheck: number; started: string[]; loaded: string[]; outcomes: string[] };
    assert.equal(result.selfCheck, 2, 'the wrappers see execSync and execFile');
    for (const outcome of result.outcomes) assert.match(outcome, /^OK /);
    assert.deepEqual(result.started, [], 'processes started by three gathers');
    assert.deepEqual(result.loaded, [], 'systeminformation modules loaded');
  });
});

describe('host-metrics thresholds', () => {
  it('run() returns CRITICAL naming the disk, its use and the limit when a disk is over critical', async () => {
    const report = await runCheck(hostMetricsPlugin, { filesystems: { includeMounts: ['/'] }, thresholds: { disk: { warning: 0, critical: '0' } } });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'threshold');
    const ratio = metric(report, 'filesystem_used_ratio', { mount: '/' });
    assert.equal(report.outcome.summary, `disk / ${(ratio * 100).toFixed(1)}% used > critical 0%`);
  });

  it('run() lists critical breaches before warnings and returns the worst status', async () => {
    const report = await runCheck(hostMetricsPlugin, {
      filesystems: { includeMounts: ['/'] },
      thresholds: { memory: { warning: 0 }, disk: { critical: 0 } },
    });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.match(report.outcome.summary, /^disk \/ \d+\.\d% used > critical 0%; memory \d+\.\d% used > warning 0%$/);
  });

  it('run() lets a per-mount threshold replace the disk threshold for that mount', async () => {
    const report = await runCheck(hostMetricsPlugin, {
      filesystems: { includeMounts: ['/'] },
      thresholds: { disk: { critical: 0 }, disks: { '/': { warning: 0, critical: 100 } } },
    });
    assert.equal(report.outcome.status, 'WARNING');
    assert.match(report.outcome.summary, /^disk \/ \d+\.\d% used > warning 0%$/);
  });

  it('run() describes an inside (@) range breach as inside the range', async () => {
    const report = await runCheck(hostMetricsPlugin, { filesystems: { includeMounts: ['/'] }, thresholds: { disk: { critical: '@0:100' } } });
    assert.match(report.outcome.summary, /^disk \/ \d+\.\d% used, inside critical range @0:100$/);
  });

  it('run() returns OK with headline figures when nothing is over', async () => {
    const report = await runCheck(hostMetricsPlugin, { thresholds: { disk: { warning: 100, critical: 100 }, memory: { critical: 100 } } });
    assert.equal(report.outcome.status, 'OK');
    assert.equal(report.outcome.reason, 'ok');
    assert.match(report.outcome.summary, /memory \d+\.\d% used \([\d.]+ of [\d.]+ GiB\), .*filesystems? \(fullest .* \d+\.\d%\), .* processes, up /);
  });

  it('run() judges CPU against its threshold from the second run on', async () => {
    const plugin = onPlatform(
      fakePlatform({
        cpuTimes: (() => {
          let calls = 0;
          return async () => (calls++ === 0 ? [{ busy: 0, total: 0 }] : [{ busy: 95, total: 100 }]);
        })(),
      }),
    );
    const config = { thresholds: { cpu: { warning: 80, critical: 90 } } };
    assert.equal((await runCheck(plugin, config)).outcome.status, 'OK');
    const report = await runCheck(plugin, config);
    assert.equal(report.outcome.summary, 'cpu 95.0% used > critical 90%');
    assert.equal(metric(report, 'cpu_usage_ratio'), 0.95);
  });
});

describe('host-metrics with slow or failing parts', () => {
  const disks: FilesystemSample[] = [
    { mount: '/', fstype: 'ext4', device: '/dev/sda1', sizeBytes: 100, usedBytes: 93, freeBytes: 7, pseudo: false },
    { mount: '/run', fstype: 'tmpfs', device: 'tmpfs', sizeBytes: 10, usedBytes: 1, freeBytes: 9, pseudo: true },
  ];

  it('run() returns at the deadline with what it has and UNKNOWN/timeout when a part with thresholds hangs', async () => {
    const plugin = onPlatform(fakePlatform({ filesystems: () => new Promise<FilesystemSample[]>(() => {}) }));
    const started = Date.now();
    const report = await runCheck(plugin, { thresholds: { disk: { critical: 90 } } }, { timeoutMs: 1500 });
    assert.equal(report.cutOff, false, 'the plugin returned by itself');
    assert.ok(Date.now() - started < 1500 + 200);
    assert.equal(report.outcome.status, 'UNKNOWN');
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.outcome.summary, 'thresholds on filesystems could not be checked; not gathered: filesystems (did not finish before the deadline)');
    metric(report, 'memory_total_bytes');
  });

  it('run() stays OK and says what is missing when a part without thresholds fails', async () => {
    const plugin = onPlatform(fakePlatform({ processCount: async () => Promise.reject(new Error('no /proc')) }));
    const report = await runCheck(plugin, {});
    assert.equal(report.outcome.status, 'OK');
    assert.match(report.outcome.summary, /; not gathered: processes \(no \/proc\)$/);
  });

  it('run() returns UNKNOWN/timeout without starting anything when its signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const config = hostMetricsSchema.parse({});
    const result = await runHostMetrics(
      config,
      { signal: controller.signal, deadline: 0, now: () => Date.now(), sleep: async () => {}, log: { debug() {}, warn() {} } },
      fakePlatform({}),
    );
    assert.equal(result.status, 'UNKNOWN');
    assert.equal(result.reason, 'timeout');
    assert.match(result.summary, /^nothing could be gathered; not gathered: cpu \(deadline reached before it started\), memory/);
  });

  it('run() reports pseudo filesystems only when asked, by includePseudo or by naming their type', async () => {
    const plugin = onPlatform(fakePlatform({ filesystems: async () => disks }));
    const mounts = async (filesystems: object) =>
      (await runCheck(plugin, { filesystems })).outcome.metrics.filter((m) => m.name === 'filesystem_used_ratio').map((m) => m.labels!.mount);
    assert.deepEqual(await mounts({}), ['/']);
    assert.deepEqual(await mounts({ includePseudo: true }), ['/', '/run']);
    assert.deepEqual(await mounts({ includeTypes: ['tmpfs'] }), ['/run']);
    assert.deepEqual(await mounts({ includeMounts: ['/r*'], includePseudo: true }), ['/run']);
  });

  it('a run that is still waiting on a hung part does not start a second call of it', async () => {
    let calls = 0;
    const plugin = onPlatform(
      fakePlatform({
        filesystems: () => {
          calls++;
          return new Promise<FilesystemSample[]>(() => {});
        },
      }),
    );
    await runPlugin(plugin, hostMetricsSchema.parse({}), { timeoutMs: 200 });
    await runPlugin(plugin, hostMetricsSchema.parse({}), { timeoutMs: 200 });
    assert.equal(calls, 1);
  });
});

describe('host-metrics on Linux', () => {
  it('counts iowait as idle and steal as busy when reading /proc/stat', () => {
    const stat = ['cpu  10 0 10 70 10 0 0 0 0 0', 'cpu0 1 2 3 4 5 6 7 8 0 0', 'cpu1 10 0 0 90 0 0 0 0 0 0', 'intr 1 2'].join('\n');
    assert.deepEqual(parseProcStat(stat), [
      { busy: 1 + 2 + 3 + 6 + 7 + 8, total: 36 },
      { busy: 10, total: 100 },
    ]);
  });

  it('reads memory and swap from /proc/meminfo, falling back to free + buffers + cache before MemAvailable existed', () => {
    const meminfo = [
      'MemTotal:       1000 kB',
      'MemFree:         100 kB',
      'MemAvailable:    600 kB',
      'Buffers:          50 kB',
      'Cached:          200 kB',
      'SwapCached:        7 kB',
      'Slab:             30 kB',
      'SwapTotal:       400 kB',
      'SwapFree:        300 kB',
    ].join('\n');
    assert.deepEqual(parseMeminfo(meminfo), {
      totalBytes: 1000 * 1024,
      availableBytes: 600 * 1024,
      swapTotalBytes: 400 * 1024,
      swapUsedBytes: 100 * 1024,
      swapFreeBytes: 300 * 1024,
    });
    const old = parseMeminfo(meminfo.replace(/^MemAvailable:.*$/m, ''));
    assert.equal(old.availableBytes, (100 + 50 + 200 + 30) * 1024);
  });

  it('reads bytes and errors per interface from /proc/net/dev', () => {
    const dev = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:  1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0',
      '  eth0:123456789012 25537  3    4    0     0          0         0  2215654   19333    5    0    0     0       0          0',
    ].join('\n');
    const counters = parseNetDev(dev);
    assert.deepEqual([...counters.keys()], ['lo', 'eth0']);
    assert.deepEqual(counters.get('eth0'), { iface: 'eth0', rxBytes: 123456789012, rxErrors: 3, txBytes: 2215654, txErrors: 5 });
  });

  it('reads mount points, types and devices from /proc/self/mountinfo, unescaping octal escapes', () => {
    const mountinfo = [
      '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
      '36 26 0:40 /data /mnt/my\\040disk rw,relatime shared:1 master:2 - xfs /dev/sdb1 rw',
      '37 26 0:41 / /mnt/nas rw - nfs4 nas:/export/pacs rw,vers=4.2',
      'garbage',
    ].join('\n');
    assert.deepEqual(parseMountinfo(mountinfo), [
      { root: '/', mount: '/', fstype: 'ext4', device: '/dev/vda' },
      { root: '/data', mount: '/mnt/my disk', fstype: 'xfs', device: '/dev/sdb1' },
      { root: '/', mount: '/mnt/nas', fstype: 'nfs4', device: 'nas:/export/pacs' },
    ]);
  });

  it('counts physical cores as distinct (physical id, core id) pairs', () => {
    const core = (p: number, c: number) => `processor\t: x\nphysical id\t: ${p}\ncore id\t\t: ${c}\n`;
    // 2 sockets × 2 cores × 2 threads
    const cpuinfo = [core(0, 0), core(0, 1), core(1, 0), core(1, 1), core(0, 0), core(0, 1), core(1, 0), core(1, 1)].join('\n');
    assert.equal(parseCpuinfoPhysicalCores(cpuinfo), 4);
    assert.equal(parseCpuinfoPhysicalCores('processor\t: 0\nBogoMIPS\t: 50.00\n'), undefined);
  });

  it('lists only the mounts the selection wants, asking it about every listed mount', async () => {
    const asked: string[] = [];
    assert.deepEqual(
      await linuxPlatform.filesystems((mount) => {
        asked.push(mount);
        return false;
      }),
      [],
    );
    assert.ok(asked.includes('/'), `asked about ${asked.join(' ')}`);
    assert.ok(!asked.includes('/proc') && !asked.includes('/sys'), 'df never lists proc or sysfs');
    const root = await linuxPlatform.filesystems((mount) => mount === '/');
    assert.deepEqual(
      root.map((fs) => fs.mount),
      ['/'],
    );
  });

  it('classifies in-memory, kernel and network filesystems as pseudo', () => {
    for (const t of ['tmpfs', 'proc', 'squashfs', 'nfs4', 'cifs', 'devtmpfs']) assert.equal(isLinuxPseudoFilesystem(t), true, t);
    for (const t of ['ext4', 'xfs', 'btrfs', 'zfs', 'overlay', 'vfat']) assert.equal(isLinuxPseudoFilesystem(t), false, t);
  });
});

describe('host-metrics config', () => {
  const fixtures: [string, unknown, string][] = [
    ['an unknown field', { cpu: true }, 'cpu: unknown field'],
    ['an unknown threshold target', { thresholds: { gpu: { critical: 90 } } }, 'thresholds.gpu: unknown field'],
    [
      'a threshold that is not a Nagios range',
      { thresholds: { disk: { critical: '90%' } } },
      'thresholds.disk.critical: "90%" is not a Nagios range: "90%" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)',
    ],
    ['an empty glob pattern', { filesystems: { excludeMounts: [''] } }, 'filesystems.excludeMounts.0: a pattern may not be empty'],
    ['perCore that is not a boolean', { perCore: 'yes' }, 'perCore: Invalid input: expected boolean, received string'],
  ];
  for (const [what, config, message] of fixtures) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(hostMetricsPlugin, config), message);
    });
  }

  it('accepts an empty config and fills in the defaults', () => {
    const config = hostMetricsSchema.parse({});
    assert.equal(config.perCore, true);
    assert.equal(config.filesystems.includePseudo, false);
    assert.equal(config.network.includeLoopback, false);
    assert.deepEqual(config.thresholds.disks, {});
  });
});

describe('host-metrics sample', () => {
  it('sample.yaml is a valid config', () => {
    // specs run from dist/; the sample stays in the source tree
    const file = new URL('../../../../../libs/plugins/src/host-metrics/sample.yaml', import.meta.url);
    assert.equal(configErrors(hostMetricsPlugin, parseYaml(readFileSync(file, 'utf8'))), '');
  });
});
