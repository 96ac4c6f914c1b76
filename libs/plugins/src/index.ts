export * from './plugin.js';
export * from './api-version.js';
export * from './schema.js';
export * from './registry.js';
export * from './runner.js';
export { nagiosCommandsSchema, type NagiosCommands } from './nagios/nagios.plugin.js';
export * from './text-fields.js';
export * from './metrics.js';
export * from './describe.js';
