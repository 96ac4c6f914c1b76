import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import type { CpuTimes, FilesystemSample, HostPlatform } from './host-metrics.os.js';

/**
 * Filesystems that are not fixed local disks: kernel views, memory-backed ones, read-only
 * images and network shares (a hung NFS server must not hold up a host check by default).
 */
const PSEUDO_TYPES = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs', 'efivarfs',
  'fusectl', 'hugetlbfs', 'mqueue', 'nsfs', 'proc', 'pstore', 'ramfs', 'rpc_pipefs', 'securityfs', 'selinuxfs',
  'squashfs', 'sysfs', 'tmpfs', 'tracefs', 'iso9660', 'udf', 'fuse.lxcfs', 'fuse.gvfsd-fuse', 'fuse.portal',
  'fuse.snapfuse', 'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'fuse.sshfs', 'ceph', 'glusterfs', 'fuse.glusterfs', '9p', 'afs',
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

export const linuxPlatform: HostPlatform = {
  os: 'linux',
  async cpuTimes(signal) {
    return parseProcStat(await readFile('/proc/stat', { encoding: 'utf8', signal }));
  },
  loadAverage() {
    const [a = 0, b = 0, c = 0] = os.loadavg();
    return [a, b, c];
  },
  async processCount() {
    // counting /proc entries is what ps does, minus the per-process parsing si.processes() adds
    const entries = await readdir('/proc');
    return entries.filter((e) => /^\d+$/.test(e)).length;
  },
  async filesystems() {
    const list = await si.fsSize();
    return list.map(
      (fs): FilesystemSample => ({
        mount: fs.mount,
        fstype: fs.type,
        device: fs.fs,
        sizeBytes: fs.size,
        usedBytes: fs.used,
        freeBytes: fs.available,
        pseudo: isLinuxPseudoFilesystem(fs.type),
      }),
    );
  },
};
