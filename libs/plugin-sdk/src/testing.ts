/**
 * @rounds/plugin-sdk/testing — the harness a plugin's spec uses: `runCheck` validates a config as
 * the agent would and runs the plugin through the agent's own runner (deadline, cut-off, metric
 * declarations, result limits); a `ManualClock` moves time for deadlines and `ctx.sleep`;
 * `listenLocal`/`closedPort` give real servers on ephemeral ports.
 */
export { runCheck, recordingLog, configErrors, listenLocal, closeServer, closedPort, metric, type RunCheckOptions } from '../../plugins/src/testing/harness.js';
export { runPlugin, type RunOptions, type RunReport } from '../../plugins/src/runner.js';
export { ManualClock, type Clock } from '../../common/src/clock.js';
