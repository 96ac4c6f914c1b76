#!/usr/bin/env node
// Rewrites the generated tables from the registry (run after `npm run build`): the plugin table
// in README.md, and the metrics table in each built-in plugin's README from its declarations.
import { readFileSync, writeFileSync } from 'node:fs';
import { withMetricsTable, withPluginTable } from '../dist/libs/plugins/src/docs.js';
import { PluginRegistry } from '../dist/libs/plugins/src/registry.js';

const rewrite = (path, render) => writeFileSync(path, render(readFileSync(path, 'utf8')));

rewrite(new URL('../README.md', import.meta.url), (text) => withPluginTable(text));
console.log('README.md plugin table updated');
for (const { plugin } of PluginRegistry.withBuiltins().list()) {
  const path = new URL(`../libs/plugins/src/${plugin.name}/README.md`, import.meta.url);
  rewrite(path, (text) => withMetricsTable(text, plugin));
  console.log(`libs/plugins/src/${plugin.name}/README.md metrics table updated`);
}
