import { z } from 'zod';
import { definePlugin, outcome } from '../plugin.js';

// Placeholder until the http plugin lands.
export const httpPlugin = definePlugin({
  name: 'http',
  version: '0.0.1',
  description: 'http check',
  configSchema: z.strictObject({}),
  run: async () => outcome('UNKNOWN', 'plugin_error', 'not implemented'),
});
