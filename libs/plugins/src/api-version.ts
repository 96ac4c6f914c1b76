/**
 * The major version of the plugin contract (plugin.ts: Plugin, CheckContext, CheckOutcome and
 * their helpers). It changes only when a plugin written for the previous one could break: a
 * plugin declares the version it was built for in `apiVersion`, and the plugin SDK's own major
 * version (libs/plugin-sdk/package.json) is this number.
 */
export const PLUGIN_API_VERSION = 1;
