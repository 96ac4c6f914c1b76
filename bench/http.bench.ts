import type { Benchmark } from './lib/figure.js';
import { checkVsProbe, startTarget } from './lib/blackbox.js';

/** The agent's http plugin against blackbox_exporter's http_2xx, same target, same concurrency. */
export const bench: Benchmark = {
  name: 'http',
  description: 'http plugin checks/s and CPU per check vs blackbox_exporter http_2xx (concurrency 64)',
  async run(ctx) {
    const target = await startTarget(ctx);
    const url = `http://127.0.0.1:${target.httpPort}/`;
    return checkVsProbe(ctx, {
      bench: 'http',
      label: 'HTTP',
      plugin: 'http',
      config: { url, expectedStatus: '200' },
      module: 'http_2xx',
      probeTarget: url,
      perPair: 2000,
      pairs: 6,
      concurrency: 64,
      rateGoal: { on: 'ratio', op: '>=', bound: 1.5 },
      cpuGoal: { on: 'ratio', op: '<=', bound: 0.4 },
    });
  },
};
