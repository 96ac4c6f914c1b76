// The thread a custom plugin runs in (started by IsolatedPlugin). It imports the plugin's module,
// runs one check per message through the same runner as the built-ins, and posts the report back.
// Everything that can go wrong here — a throw at import, a busy loop, process.exit, running out
// of heap — ends or stalls this thread only; the agent's side reads that from the Worker's events.
// No top-level await: the single-file agent runs this file as an embedded CommonJS bundle
// (scripts/build-agent.mjs), where a failed import still ends the thread with its error.
import { parentPort, workerData } from 'node:worker_threads';
import type { Plugin } from '../plugin.js';
import { runPlugin } from '../runner.js';
import { pluginsOf } from './plugin-module.js';
import type { FromWorker, ToWorker, WorkerData } from './isolated-plugin.js';

const { moduleUrl, pluginName } = workerData as WorkerData;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

function serve(plugin: Plugin): void {
  port.on('message', (message: ToWorker) => {
    const log = {
      debug: (text: string) => post({ type: 'log', id: message.id, level: 'debug', text }),
      warn: (text: string) => post({ type: 'log', id: message.id, level: 'warn', text }),
    };
    void runPlugin(plugin, message.config, { timeoutMs: Math.max(1, message.deadline - Date.now()), graceMs: message.graceMs, log }).then((report) =>
      post({ type: 'report', id: message.id, report }),
    );
  });
}

void (import(moduleUrl) as Promise<Record<string, unknown>>).then((mod) => {
  const exported = pluginsOf(mod);
  const plugin = exported.find((p) => (p as Plugin | undefined)?.name === pluginName) as Plugin | undefined;
  if (pluginName !== undefined && !plugin) throw new Error(`${moduleUrl} no longer exports a plugin named "${pluginName}"`);
  post({ type: 'ready' });
  if (plugin) serve(plugin);
});
