import type { Benchmark } from './lib/figure.js';
import { checkVsProbe, startTarget } from './lib/blackbox.js';

/** The agent's tcp plugin against blackbox_exporter's tcp_connect, same target, same concurrency. */
export const bench: Benchmark = {
  name: 'tcp',
  description: 'tcp plugin checks/s vs blackbox_exporter tcp_connect (concurrency 64)',
  async run(ctx) {
    const target = await startTarget(ctx);
    return checkVsProbe(ctx, {
      bench: 'tcp',
      label: 'TCP',
      plugin: 'tcp',
      config: { host: '127.0.0.1', port: target.tcpPort },
      module: 'tcp_connect',
      probeTarget: `127.0.0.1:${target.tcpPort}`,
      perPair: 2000,
      pairs: 6,
      concurrency: 64,
      rateGoal: { on: 'ratio', op: '>=', bound: 2.5 },
      cpuGoal: null,
    });
  },
};
