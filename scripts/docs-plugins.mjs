#!/usr/bin/env node
// Rewrites the plugin table in README.md from the registry (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withPluginTable } from '../dist/libs/plugins/src/docs.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withPluginTable(readFileSync(path, 'utf8')));
console.log('README.md plugin table updated');
