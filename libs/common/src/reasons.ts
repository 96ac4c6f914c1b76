/**
 * Why a check ended the way it did: a closed set, shared by plugins, the agent
 * and the collector so that alerts and dashboards can group by it.
 */
export const REASONS = [
  'ok',
  'timeout',
  'refused',
  'dns',
  'tls',
  'auth',
  'access_denied',
  'assertion',
  'threshold',
  'unexpected_response',
  'protocol_error',
  'association_rejected',
  'aborted',
  'bad_share',
  'disk_full',
  'unreachable',
  'config_error',
  'plugin_error',
] as const;

export type Reason = (typeof REASONS)[number];

export function isReason(value: string): value is Reason {
  return (REASONS as readonly string[]).includes(value);
}
