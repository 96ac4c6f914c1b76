import { z } from 'zod';
import { validateWith, type Validation } from '#rounds/plugins';
import { instantField, nameField, textField } from './fields.js';
import { durationField } from '#rounds/common';
import { matcherField, matchesAll, type Labels, type Matcher } from './matchers.js';

/** Mutes the notifications of every alert whose labels match, from `startsAt` until `endsAt`. */
export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  createdAt: number;
}

/** A silence as asked for; `startsAt` defaults to now, and the end is `endsAt` or now + `duration`. */
export interface SilenceRequest {
  id?: string;
  matchers: Matcher[];
  startsAt?: number;
  endsAt?: number;
  durationMs?: number;
  createdBy: string;
  comment: string;
}

export const silenceRequestSchema = z
  .strictObject({
    matchers: z
      .array(matcherField(), { error: 'must be a list of matchers, e.g. ["agent=\\"pacs-01\\""]' })
      .min(1, 'needs at least one matcher: a silence that matches everything would mute every alert'),
    startsAt: instantField().optional(),
    endsAt: instantField().optional(),
    duration: durationField().optional(),
    createdBy: nameField('the name of who silences', 200),
    comment: textField('text saying why'),
  })
  .superRefine((s, ctx) => {
    if ((s.endsAt === undefined) === (s.duration === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'give either endsAt or duration (one of them, not both)' });
    } else if (s.duration === 0) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'must be longer than 0' });
    } else if (s.endsAt !== undefined && s.startsAt !== undefined && s.endsAt <= s.startsAt) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    }
  })
  .transform(({ duration, ...s }): SilenceRequest => ({
    matchers: s.matchers,
    createdBy: s.createdBy,
    comment: s.comment,
    ...(s.startsAt === undefined ? {} : { startsAt: s.startsAt }),
    ...(s.endsAt === undefined ? {} : { endsAt: s.endsAt }),
    ...(duration === undefined ? {} : { durationMs: duration }),
  }));

export function parseSilenceRequest(input: unknown): Validation<SilenceRequest> {
  return validateWith(silenceRequestSchema, input);
}

export class SilenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SilenceError';
  }
}

/** Turns a request into a silence at `now`; throws a {@link SilenceError} saying what to fix. */
export function createSilence(request: SilenceRequest, now: number, newId: () => string): Silence {
  if (request.matchers.length === 0) {
    throw new SilenceError('a silence needs at least one matcher: one that matches everything would mute every alert');
  }
  const startsAt = request.startsAt ?? now;
  const endsAt = request.endsAt ?? (request.durationMs !== undefined ? startsAt + request.durationMs : undefined);
  if (endsAt === undefined) throw new SilenceError('a silence needs an end: give endsAt or a duration');
  if (endsAt <= startsAt) throw new SilenceError('a silence must end after it starts');
  if (endsAt <= now) throw new SilenceError(`the silence would end at ${new Date(endsAt).toISOString()}, which is already past`);
  return {
    id: request.id ?? newId(),
    matchers: request.matchers.map((m) => ({ ...m })),
    startsAt,
    endsAt,
    createdBy: request.createdBy,
    comment: request.comment,
    createdAt: now,
  };
}

export function isSilenceActive(silence: Silence, atMs: number): boolean {
  return silence.startsAt <= atMs && atMs < silence.endsAt;
}

/** The silences that mute an alert with these labels at `atMs`. */
export function silencesMuting(silences: readonly Silence[], labels: Labels, atMs: number): Silence[] {
  return silences.filter((s) => isSilenceActive(s, atMs) && matchesAll(s.matchers, labels));
}
