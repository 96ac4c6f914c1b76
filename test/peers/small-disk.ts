import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, requireBinary } from './process.js';

/**
 * A real, small file system (tmpfs) to fill up and free again: what a full disk does to a
 * process is tested on a full disk, not on a mocked write. Mounting needs root — the test
 * script runs as root in CI; anywhere else this throws saying so (never a silent skip).
 */
export interface SmallDisk {
  /** The mount point. */
  readonly dir: string;
  /** Bytes free right now. */
  free(): number;
  /** Writes a filler file until at most `leaveBytes` are free (the disk is "full"). */
  fill(leaveBytes?: number): void;
  /** Deletes the filler: the space comes back. */
  release(): void;
  unmount(): void;
}

export function mountSmallDisk(sizeBytes: number): SmallDisk {
  if (process.getuid?.() !== 0) {
    throw new Error('the disk-full tests mount a small tmpfs and need root: run `npm test` as root (CI does)');
  }
  const mount = requireBinary('mount', 'mount');
  const umount = requireBinary('umount', 'mount');
  const dir = makeTempDir('small-disk');
  execFileSync(mount, ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  const filler = join(dir, 'filler.bin');
  const free = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    fill(leaveBytes = 0) {
      const fd = openSync(filler, 'a');
      const block = Buffer.alloc(64 * 1024, 0xab);
      try {
        while (free() > leaveBytes) {
          const room = free() - leaveBytes;
          writeSync(fd, block, 0, Math.min(block.length, Math.max(4096, room)));
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        fsyncSync(fd);
        closeSync(fd);
      }
    },
    release() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync(umount, ['-l', dir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
