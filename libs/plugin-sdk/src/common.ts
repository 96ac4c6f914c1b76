/**
 * What libs/plugins takes from `#rounds/common`, and no more: inside the SDK package this module
 * stands in for `#rounds/common` (tsconfig.json `paths` when it is built, package.json `imports`
 * once installed), so the package carries neither the agent's gRPC code nor its dependencies.
 * A plugin-side file that starts using something else from `#rounds/common` fails the SDK's build
 * until it is added here.
 */
export * from '../../common/src/check-status.js';
export * from '../../common/src/reasons.js';
export * from '../../common/src/clock.js';
export * from '../../common/src/limits.js';
export * from '../../common/src/thresholds/range.js';
export * from '../../common/src/time-zone.js';
