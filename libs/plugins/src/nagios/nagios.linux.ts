import type { ChildProcess } from 'node:child_process';
import type { ProcessControl } from './nagios.process.js';

// A fixed PATH and the C locale: plugins must not depend on the agent's environment, and
// perfdata must use "." as the decimal separator whatever the host's locale is.
const BASE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/** POSIX (Linux, and macOS alike): the child leads its own process group, killed as one. */
export const posixProcessControl: ProcessControl = {
  spawnOptions: { detached: true },
  environment: (extra) => ({ ...BASE_ENV, ...extra }),
  killTree(child: ChildProcess): void {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone
    }
  },
};
