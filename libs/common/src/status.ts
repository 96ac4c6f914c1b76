import { Status } from './generated/rounds/agent/v1/agent.js';

/** Nagios semantics; the index is the Nagios exit code and the stored status number. */
export const CHECK_STATUSES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

const SEVERITY: Record<CheckStatus, number> = { OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3 };

export function statusToProto(status: CheckStatus): Status {
  return Status[`STATUS_${status}`];
}

export function statusFromProto(status: Status): CheckStatus {
  switch (status) {
    case Status.STATUS_OK:
      return 'OK';
    case Status.STATUS_WARNING:
      return 'WARNING';
    case Status.STATUS_CRITICAL:
      return 'CRITICAL';
    default:
      return 'UNKNOWN';
  }
}

/** The exit code a Nagios plugin would use for this status (0–3). */
export function nagiosExitCode(status: CheckStatus): number {
  return CHECK_STATUSES.indexOf(status);
}

/** CRITICAL beats WARNING beats UNKNOWN beats OK. */
export function worstStatus(...statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst), 'OK');
}
