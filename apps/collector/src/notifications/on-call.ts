/**
 * The seam between routing (notification policies name an on-call schedule as a target) and
 * on-call schedules (who is on call at an instant, and how to reach them). Routing depends only on
 * this interface, so a policy can name a schedule before the schedule exists: an unknown schedule
 * reaches nobody, and the routing explanation says so instead of failing the alert.
 */
export interface OnCallDirectory {
  /**
   * The people on call in `schedule` (by name) at `at` (epoch ms) and the channel ids that reach
   * them; `undefined` when no such schedule exists. Overrides are already applied.
   */
  onCall(schedule: string, at: number): Promise<OnCallAnswer | undefined>;
}

export interface OnCallAnswer {
  schedule: string;
  /** User names on call, in the order the schedule lists them (an override first). */
  users: string[];
  /** Channel ids that reach those users, without repeats. */
  channelIds: string[];
  /** On call by the schedule, but their account is disabled: not paged (left out of `users`). */
  disabled: string[];
}

/** Nest injection token of the {@link OnCallDirectory}. */
export const ON_CALL_DIRECTORY = Symbol('ON_CALL_DIRECTORY');

/** The directory when no schedule module is wired: every schedule is unknown. */
export const NO_ON_CALL: OnCallDirectory = { onCall: () => Promise.resolve(undefined) };
