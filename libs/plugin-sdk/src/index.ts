/**
 * @rounds/plugin-sdk — what a Rounds check plugin is written against: the contract, the schema
 * helpers (secrets, thresholds, host names), the outcome helpers and the closed sets of statuses
 * and reasons. Everything is re-exported from the code the agent itself runs (libs/plugins,
 * libs/common), so a plugin is checked against the very types the agent holds it to.
 * The test harness is `@rounds/plugin-sdk/testing`.
 */
export { z } from 'zod';
export {
  definePlugin,
  outcome,
  METRIC_UNITS,
  type CheckContext,
  type CheckOutcome,
  type CheckStatus,
  type Metric,
  type MetricDeclaration,
  type MetricUnit,
  type Plugin,
  type PluginLogger,
  type Reason,
} from '../../plugins/src/plugin.js';
export { PLUGIN_API_VERSION } from '../../plugins/src/api-version.js';
export {
  secret,
  thresholdRange,
  hostname,
  port,
  timeOfDay,
  timeZoneName,
  validateWith,
  formatFieldErrors,
  toJsonSchema,
  SECRET_KEYWORD,
  type FieldError,
  type Validation,
} from '../../plugins/src/schema.js';
export { withoutControlCharacters } from '../../plugins/src/text-fields.js';
export { RESERVED_METRIC_LABELS } from '../../plugins/src/metrics.js';
export { CHECK_STATUSES, worstStatus } from '../../common/src/check-status.js';
export { REASONS, isReason } from '../../common/src/reasons.js';
export { evaluateThresholds, formatRange, type ThresholdRange, type ThresholdVerdict } from '../../common/src/thresholds/range.js';
