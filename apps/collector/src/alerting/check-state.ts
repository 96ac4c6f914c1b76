import { z } from 'zod';
import { CHECK_STATUSES, durationField, type CheckStatus } from '#rounds/common';
import { required } from './fields.js';

/** Stored status numbers: the index in CHECK_STATUSES and the Nagios exit code. */
export type StatusCode = 0 | 1 | 2 | 3;

export interface FlapPolicy {
  enabled: boolean;
  /** Results looked at; `window - 1` possible state changes. */
  window: number;
  /** Percent of weighted state changes above which the check starts flapping. */
  high: number;
  /** Percent below which a flapping check has settled. */
  low: number;
  /** Nagios weighting: the newest change counts 1.25, the oldest 0.75. */
  weighted: boolean;
}

/** How one check turns raw results into hard states; every field has a default. */
export interface CheckPolicy {
  /** Non-OK results in a row before the check is in a hard non-OK state (it alerts). */
  failuresBeforeHard: number;
  /** OK results in a row before a hard non-OK check counts as recovered (hysteresis). */
  successesBeforeRecovery: number;
  flap: FlapPolicy;
  /** How often a firing alert of this check reminds; `null`: the engine's default. 0: never. */
  repeatMs: number | null;
}

/**
 * Nagios' max_check_attempts of 3 and recovery on the first OK; Icinga 2's flap thresholds
 * (30 % / 25 %) over Nagios' 21-result window. Override per check.
 */
export const DEFAULT_CHECK_POLICY: CheckPolicy = Object.freeze({
  failuresBeforeHard: 3,
  successesBeforeRecovery: 1,
  flap: Object.freeze({ enabled: true, window: 21, high: 30, low: 25, weighted: true }),
  repeatMs: null,
});

/** A per-check override as stored: any subset of the policy. */
export interface CheckPolicyOverride {
  failuresBeforeHard?: number;
  successesBeforeRecovery?: number;
  flap?: Partial<FlapPolicy>;
  repeatMs?: number | null;
}

export function resolvePolicy(override: CheckPolicyOverride | undefined, base: CheckPolicy = DEFAULT_CHECK_POLICY): CheckPolicy {
  return {
    failuresBeforeHard: override?.failuresBeforeHard ?? base.failuresBeforeHard,
    successesBeforeRecovery: override?.successesBeforeRecovery ?? base.successesBeforeRecovery,
    flap: { ...base.flap, ...override?.flap },
    repeatMs: override?.repeatMs === undefined ? base.repeatMs : override.repeatMs,
  };
}

const attempts = (what: string) =>
  z
    .number(required(`must be a whole number of ${what} from 1 to 100`))
    .int(`must be a whole number of ${what} from 1 to 100`)
    .min(1, `must be a whole number of ${what} from 1 to 100`)
    .max(100, `must be a whole number of ${what} from 1 to 100`);

const percent = z
  .number(required('must be a percentage from 0 to 100'))
  .min(0, 'must be a percentage from 0 to 100')
  .max(100, 'must be a percentage from 0 to 100');

/** A check's alerting settings as written in its config (API, CLI, YAML); the output is an override. */
export const checkPolicySchema = z
  .strictObject({
    failuresBeforeHard: attempts('results').optional(),
    successesBeforeRecovery: attempts('results').optional(),
    flap: z
      .strictObject({
        enabled: z.boolean(required('must be true or false')).optional(),
        window: z
          .number(required('must be a whole number of results from 3 to 100'))
          .int('must be a whole number of results from 3 to 100')
          .min(3, 'must be a whole number of results from 3 to 100')
          .max(100, 'must be a whole number of results from 3 to 100')
          .optional(),
        high: percent.optional(),
        low: percent.optional(),
        weighted: z.boolean(required('must be true or false')).optional(),
      })
      .superRefine((flap, ctx) => {
        const high = flap.high ?? DEFAULT_CHECK_POLICY.flap.high;
        const low = flap.low ?? DEFAULT_CHECK_POLICY.flap.low;
        if (low > high) {
          ctx.addIssue({
            code: 'custom',
            path: ['low'],
            message: `must not be above high (${high} %): a check stops flapping below low and starts above high`,
          });
        }
      })
      .optional(),
    repeat: durationField().optional(),
  })
  .transform(({ repeat, ...rest }): CheckPolicyOverride => (repeat === undefined ? rest : { ...rest, repeatMs: repeat }));

/** What the engine keeps per check (and a persistence layer stores). */
export interface CheckStateData {
  checkId: string;
  agentId: string;
  checkName: string | null;
  agentName: string | null;
  plugin: string | null;
  /**
   * The check's tags with its agent's (site, department, modality…) as of the latest result: labels
   * of its alerts, so silences, maintenance windows and rules match them. Absent in states saved
   * before tags were labels.
   */
  tags?: Record<string, string>;
  /** Status of the latest result. */
  status: CheckStatus;
  /** The state that counts for alerting; OK until a non-OK state is confirmed. */
  hardStatus: CheckStatus;
  /** HARD when the latest result agrees with the hard state, SOFT while a change is unconfirmed. */
  stateType: 'SOFT' | 'HARD';
  /** Non-OK results in a row. */
  failures: number;
  /** OK results in a row. */
  successes: number;
  reason: string;
  summary: string;
  /** Reason and summary of the latest non-OK result: what an alert says while it recovers. */
  problemReason: string;
  problemSummary: string;
  lastResultAt: number | null;
  /** When the latest result's status differed from the one before. */
  lastChangeAt: number | null;
  lastHardChangeAt: number | null;
  /** The latest `flap.window` statuses as stored numbers, oldest first. */
  recent: StatusCode[];
  flapping: boolean;
  /** Weighted share of state changes over `recent`, in percent. */
  percentChange: number;
}

export type CheckEvent =
  | { type: 'hard_change'; from: CheckStatus; to: CheckStatus }
  | { type: 'flapping_started'; percentChange: number }
  | { type: 'flapping_stopped'; percentChange: number };

export function initialCheckState(checkId: string, agentId: string): CheckStateData {
  return {
    checkId,
    agentId,
    checkName: null,
    agentName: null,
    plugin: null,
    status: 'OK',
    hardStatus: 'OK',
    stateType: 'HARD',
    failures: 0,
    successes: 0,
    reason: '',
    summary: '',
    problemReason: '',
    problemSummary: '',
    lastResultAt: null,
    lastChangeAt: null,
    lastHardChangeAt: null,
    recent: [],
    flapping: false,
    percentChange: 0,
  };
}

export function statusOf(status: CheckStatus | number): CheckStatus {
  if (typeof status === 'string') return status;
  return CHECK_STATUSES[status] ?? 'UNKNOWN';
}

export function codeOf(status: CheckStatus): StatusCode {
  return CHECK_STATUSES.indexOf(status) as StatusCode;
}

/**
 * Folds one result into a check's state (mutating it) and says what changed.
 *
 * From hard OK, `failuresBeforeHard` non-OK results in a row make the latest non-OK status
 * hard. From a hard non-OK state, another non-OK status becomes hard at once (WARNING →
 * CRITICAL escalates without waiting) and `successesBeforeRecovery` OK results in a row make
 * it hard OK again; a failure in between restarts that count.
 */
export function applyResult(
  state: CheckStateData,
  result: { status: CheckStatus; reason: string; summary: string; at: number },
  policy: CheckPolicy,
): CheckEvent[] {
  const events: CheckEvent[] = [];
  const previous = state.lastResultAt === null ? null : state.status;
  const from = state.hardStatus;

  state.status = result.status;
  state.reason = result.reason;
  state.summary = result.summary;
  state.lastResultAt = result.at;
  if (previous !== null && previous !== result.status) state.lastChangeAt = result.at;

  if (result.status === 'OK') {
    state.successes++;
    state.failures = 0;
    if (state.hardStatus !== 'OK' && state.successes >= policy.successesBeforeRecovery) state.hardStatus = 'OK';
  } else {
    state.failures++;
    state.successes = 0;
    state.problemReason = result.reason;
    state.problemSummary = result.summary;
    if (state.hardStatus !== 'OK' || state.failures >= policy.failuresBeforeHard) state.hardStatus = result.status;
  }
  state.stateType = state.status === state.hardStatus ? 'HARD' : 'SOFT';
  if (state.hardStatus !== from) {
    state.lastHardChangeAt = result.at;
    events.push({ type: 'hard_change', from, to: state.hardStatus });
  }

  state.recent.push(codeOf(result.status));
  const window = Math.max(3, policy.flap.window);
  if (state.recent.length > window) state.recent.splice(0, state.recent.length - window);
  state.percentChange = percentStateChange(state.recent, window, policy.flap.weighted);
  if (policy.flap.enabled) {
    if (!state.flapping && state.percentChange > policy.flap.high) {
      state.flapping = true;
      events.push({ type: 'flapping_started', percentChange: state.percentChange });
    } else if (state.flapping && state.percentChange < policy.flap.low) {
      state.flapping = false;
      events.push({ type: 'flapping_stopped', percentChange: state.percentChange });
    }
  } else if (state.flapping) {
    state.flapping = false;
    events.push({ type: 'flapping_stopped', percentChange: state.percentChange });
  }
  return events;
}

/**
 * Nagios' percent state change: changes between consecutive results over the `window - 1`
 * possible ones, newer changes weighing more when `weighted`. A short history counts as a
 * full window without changes at its old end, so a new check does not look like flapping.
 */
export function percentStateChange(recent: readonly number[], window: number, weighted: boolean): number {
  const slots = window - 1;
  const offset = slots - (recent.length - 1);
  let sum = 0;
  for (let i = 1; i < recent.length; i++) {
    if (recent[i] === recent[i - 1]) continue;
    const j = offset + i - 1; // 0 = oldest slot, slots - 1 = newest
    sum += weighted ? 0.75 + (j * 0.5) / Math.max(1, slots - 1) : 1;
  }
  return Math.round(((sum * 100) / slots) * 100) / 100;
}
