import { Status } from './generated/rounds/agent/v1/agent.js';
import type { CheckStatus } from './check-status.js';

export * from './check-status.js';

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
