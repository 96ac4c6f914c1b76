import { readdir, readFile, stat, statfs } from 'node:fs/promises';
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

/*
 * Everything here is read from /proc, /sys and statfs(2) with asynchronous fs calls, as
 * node_exporter does: no child process (no df, no cat, no sh), nothing that blocks the
 * agent's event loop, and no systeminformation in the module graph.
 */

/** Network filesystems: a dead server makes stat/statfs hang (in a libuv thread), so they are looked at one at a time, and only when asked for. */
const NETWORK_TYPES = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'fuse.sshfs', 'ceph', 'glusterfs', 'fuse.glusterfs', '9p', 'afs']);

/**
 * Filesystems that are not fixed local disks: kernel views, memory-backed ones, read-only
 * images and network shares (a hung NFS server must not hold up a host check by default).
 */
const PSEUDO_TYPES = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'sysfs',
  'tmpfs',
  'tracefs',
  'iso9660',
  'udf',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'fuse.snapfuse',
  ...NETWORK_TYPES,
]);

/**
 * What `df -kPTx squashfs` (which this plugin used to run) never lists: gnulib's "dummy"
 * types, which df hides without -a, and squashfs (snap images, excluded by -x).
 * They are not statfs'd at all.
 */
const NEVER_LISTED = new Set([
  'autofs',
  'proc',
  'subfs',
  'debugfs',
  'devpts',
  'fusectl',
  'fuse.portal',
  'mqueue',
  'rpc_pipefs',
  'sysfs',
  'devfs',
  'kernfs',
  'ignore',
  'none',
  'rootfs',
  'squashfs',
]);

export function isLinuxPseudoFilesystem(fstype: string): boolean {
  return PSEUDO_TYPES.has(fstype.toLowerCase());
}

/**
 * /proc/stat rather than os.cpus(): libuv leaves out iowait, softirq and steal, so a host
 * stuck in iowait or starved by its hypervisor would look idle.
 */
export function parseProcStat(text: string): CpuTimes[] {
  const cores: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = m[2]!.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    cores[Number(m[1])] = { busy, total: busy + idle + iowait };
  }
  return cores.filter(Boolean);
}

/** /proc/meminfo, in bytes. MemAvailable is missing before Linux 3.14: free + buffers + cache, as free(1) did. */
export function parseMeminfo(text: string): MemorySample {
  const kib = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:\s]+):\s+(\d+)/.exec(line);
    if (m) kib.set(m[1]!, Number(m[2]) * 1024);
  }
  const get = (key: string) => kib.get(key) ?? 0;
  const totalBytes = get('MemTotal') || os.totalmem();
  const availableBytes = kib.get('MemAvailable') ?? get('MemFree') + get('Buffers') + get('Cached') + get('Slab');
  const swapTotalBytes = get('SwapTotal');
  const swapFreeBytes = get('SwapFree');
  return { totalBytes, availableBytes, swapTotalBytes, swapUsedBytes: swapTotalBytes - swapFreeBytes, swapFreeBytes };
}

/** /proc/net/dev: bytes and errors per interface (the same counters as /sys/class/net/<if>/statistics). */
export function parseNetDev(text: string): Map<string, InterfaceSample> {
  const byIface = new Map<string, InterfaceSample>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs …
    if (!iface || f.length < 16 || f.some(Number.isNaN)) continue;
    byIface.set(iface, { iface, rxBytes: f[0]!, rxErrors: f[2]!, txBytes: f[8]!, txErrors: f[10]! });
  }
  return byIface;
}

export interface MountEntry {
  mount: string;
  fstype: string;
  device: string;
  /** The directory of the filesystem that is mounted here ("/" unless a bind mount of a subtree). */
  root: string;
}

/** Paths in /proc/self/mountinfo escape space, tab, newline and backslash as octal (\040). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** /proc/self/mountinfo: "36 35 98:0 /root /mount opts [optional…] - fstype source superopts". */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 7 || dash < 0 || dash + 2 >= fields.length) continue;
    entries.push({
      root: unescapeMountPath(fields[3]!),
      mount: unescapeMountPath(fields[4]!),
      fstype: fields[dash + 1]!,
      device: unescapeMountPath(fields[dash + 2]!),
    });
  }
  return entries;
}

/** Physical cores: distinct (physical id, core id) pairs; undefined when /proc/cpuinfo does not say (many ARM kernels). */
export function parseCpuinfoPhysicalCores(text: string): number | undefined {
  const cores = new Set<string>();
  let physical = '0';
  for (const line of text.split('\n')) {
    const m = /^(physical id|core id)\s*:\s*(\S+)/.exec(line);
    if (!m) continue;
    if (m[1] === 'physical id') physical = m[2]!;
    else cores.add(`${physical}:${m[2]}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

/** Fallback: distinct sets of hardware threads sharing a core, from sysfs topology. */
async function sysfsPhysicalCores(): Promise<number | undefined> {
  const base = '/sys/devices/system/cpu';
  const cpus = (await readdir(base)).filter((e) => /^cpu\d+$/.test(e));
  const siblings = await Promise.all(
    cpus.map((cpu) =>
      readFile(`${base}/${cpu}/topology/thread_siblings_list`, 'utf8').then(
        (s) => s.trim(),
        () => undefined,
      ),
    ),
  );
  const distinct = new Set(siblings.filter((s) => s !== undefined));
  return distinct.size > 0 ? distinct.size : undefined;
}

function isRemote(m: MountEntry): boolean {
  return NETWORK_TYPES.has(m.fstype.toLowerCase()) || m.device.startsWith('//') || /^[^/]+:/.test(m.device);
}

/** Network mounts and FUSE filesystems (s3fs, rclone, … may be remote too) can hang stat/statfs. */
function mayHang(m: MountEntry): boolean {
  return isRemote(m) || m.fstype.toLowerCase().startsWith('fuse');
}

/** Mounts that may hang are looked at one at a time across all checks: a dead server then holds at most one libuv thread. */
let slowQueue: Promise<unknown> = Promise.resolve();

function queued<T>(serial: boolean, look: () => Promise<T>): Promise<T> {
  if (!serial) return look();
  const next = slowQueue.then(look, look);
  slowQueue = next.catch(() => undefined);
  return next;
}

interface Looked {
  entry: MountEntry;
  dev: number;
  sample: FilesystemSample;
}

/**
 * df's choice between two mounts of the same device (coreutils filter_mount_list): a real
 * device path wins over a name, then the mount nearer the root, then an entry mounted over
 * the same directory; two network mounts of different exports both stay.
 */
function replaces(candidate: MountEntry, kept: MountEntry): boolean {
  if (candidate.device.includes('/') && !kept.device.includes('/')) return true;
  if (kept.mount.length > candidate.mount.length) return true;
  return kept.device !== candidate.device && kept.mount === candidate.mount;
}

export async function linuxFilesystems(wanted?: FilesystemFilter): Promise<FilesystemSample[]> {
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  const candidates = mounts.filter((m) => {
    if (NEVER_LISTED.has(m.fstype.toLowerCase())) return false;
    return !wanted || wanted(m.mount, m.fstype, isLinuxPseudoFilesystem(m.fstype));
  });
  const looked = await Promise.all(
    candidates.map((entry) =>
      queued(mayHang(entry), async (): Promise<Looked | undefined> => {
        try {
          // stat for the device id, as df: a bind mount or an overmounted directory shows the device really there
          const [st, fs] = await Promise.all([stat(entry.mount), statfs(entry.mount)]);
          // df hides filesystems with no blocks (and so do we: nothing to fill up)
          if (!(fs.blocks > 0)) return undefined;
          const sample: FilesystemSample = {
            mount: entry.mount,
            fstype: entry.fstype,
            device: entry.device,
            sizeBytes: fs.blocks * fs.bsize,
            usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
            freeBytes: fs.bavail * fs.bsize,
            pseudo: isLinuxPseudoFilesystem(entry.fstype),
          };
          return { entry, dev: st.dev, sample };
        } catch {
          // gone since mountinfo was read, or not ours to look at (EACCES): df skips it too
          return undefined;
        }
      }),
    ),
  );
  const byDev = new Map<number, Looked>();
  const kept = new Set<Looked>();
  for (const l of looked) {
    if (!l) continue;
    const seen = byDev.get(l.dev);
    if (!seen) {
      byDev.set(l.dev, l);
      kept.add(l);
    } else if (isRemote(l.entry) && isRemote(seen.entry) && l.entry.device !== seen.entry.device) {
      kept.add(l);
    } else if (replaces(l.entry, seen.entry)) {
      kept.delete(seen);
      byDev.set(l.dev, l);
      kept.add(l);
    }
  }
  return looked.filter((l): l is Looked => l !== undefined && kept.has(l)).map((l) => l.sample);
}

export const linuxPlatform: HostPlatform = {
  os: 'linux',
  async cpuTimes(signal) {
    return parseProcStat(await readFile('/proc/stat', { encoding: 'utf8', signal }));
  },
  async cpuFacts(): Promise<CpuFacts> {
    const logicalCores = os.cpus().length;
    const physicalCores =
      parseCpuinfoPhysicalCores(await readFile('/proc/cpuinfo', 'utf8').catch(() => '')) ?? (await sysfsPhysicalCores().catch(() => undefined));
    return { logicalCores, physicalCores };
  },
  loadAverage() {
    // os.loadavg() is sysinfo(2): the figures of /proc/loadavg without a file read
    const [a = 0, b = 0, c = 0] = os.loadavg();
    return [a, b, c];
  },
  async memory() {
    return parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
  },
  async networkInterfaces(): Promise<NetworkInterface[]> {
    // getifaddrs(3): interfaces that have an address, as systeminformation listed them
    const byName = new Map<string, NetworkInterface>();
    for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
      const iface = name.split(':')[0]!.trim(); // eth0:1 is an alias of eth0
      if (!iface || byName.has(iface)) continue;
      byName.set(iface, { iface, internal: Boolean(addresses?.[0]?.internal) || /loopback/i.test(name) });
    }
    return [...byName.values()];
  },
  async networkCounters(names) {
    const counters = parseNetDev(await readFile('/proc/net/dev', 'utf8'));
    return names.map((n) => counters.get(n)).filter((c): c is InterfaceSample => c !== undefined);
  },
  async processCount() {
    // counting /proc entries is what ps does, minus the per-process parsing
    const entries = await readdir('/proc');
    return entries.filter((e) => /^\d+$/.test(e)).length;
  },
  filesystems: linuxFilesystems,
};
