import { z } from 'zod';
import { definePlugin, outcome } from '../plugin.js';

// Placeholder until the tcp plugin lands.
export const tcpPlugin = definePlugin({
  name: 'tcp',
  version: '0.0.1',
  description: 'tcp check',
  configSchema: z.strictObject({}),
  run: async () => outcome('UNKNOWN', 'plugin_error', 'not implemented'),
});
