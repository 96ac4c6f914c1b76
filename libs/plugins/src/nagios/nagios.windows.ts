import { spawn, type ChildProcess } from 'node:child_process';
import type { ProcessControl } from './nagios.process.js';

/** Windows has no process groups to signal: taskkill /T walks the tree. */
export const windowsProcessControl: ProcessControl = {
  spawnOptions: { windowsHide: true },
  // Windows programs need SystemRoot, TEMP and friends, which only the inherited
  // environment has: keep spawn's default (inherit) unless the command adds variables.
  environment: (extra) => (Object.keys(extra).length === 0 ? undefined : { ...process.env, ...extra }),
  killTree(child: ChildProcess): void {
    if (child.pid === undefined) return;
    // taskkill finds the descendants through the parent, so the parent must not be killed first
    const fallback = () => child.kill('SIGKILL');
    try {
      spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true, stdio: 'ignore' }).on('error', fallback);
    } catch {
      fallback();
    }
  },
};
