/**
 * A check's status without the wire: what plugins and the plugin SDK need, kept apart from
 * status.ts's protobuf mapping so that the SDK ships no generated code.
 */
/** Nagios semantics; the index is the Nagios exit code and the stored status number. */
export const CHECK_STATUSES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

const SEVERITY: Record<CheckStatus, number> = { OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3 };

/** The exit code a Nagios plugin would use for this status (0–3). */
export function nagiosExitCode(status: CheckStatus): number {
  return CHECK_STATUSES.indexOf(status);
}

/** CRITICAL beats WARNING beats UNKNOWN beats OK. */
export function worstStatus(...statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst), 'OK');
}
