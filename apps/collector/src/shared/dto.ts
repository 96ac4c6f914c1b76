import { z } from 'zod';
import { validateWith } from '#rounds/plugins';
import { ValidationFailedError } from './errors.js';

/**
 * Input through its DTO schema — an API body or query (see ZodPipe), or the CLI's arguments —
 * so that both give the same field-named errors: the typed value, or a ValidationFailedError.
 */
export function parseDto<S extends z.ZodType>(schema: S, input: unknown, message: string): z.output<S> {
  const v = validateWith(schema, input);
  if (!v.ok) throw new ValidationFailedError(message, v.errors);
  return v.value;
}

/** `?limit=`: a whole number from 1 to `max` (the query's text coerced), `fallback` when absent. */
export function limitParam(max: number, fallback: number) {
  const message = `must be a whole number from 1 to ${max}`;
  return z.coerce.number({ error: message }).int(message).min(1, message).max(max, message).default(fallback);
}

/**
 * `schema`, reading a request without a body (sent without a JSON content type, or `null`) as
 * `{}`: each required field then says "is required" where the whole would say "expected object".
 */
export function orEmpty<S extends z.ZodType>(schema: S) {
  return z.preprocess((input) => input ?? {}, schema);
}

/** `?limit=` of a list that is whole without it: one page of at most `max` when given. */
export function pageLimitParam(max = 10_000) {
  const rule = `must be a whole number from 1 to ${max}`;
  return z.coerce.number({ error: rule }).int(rule).min(1, rule).max(max, rule).optional();
}

/** `?offset=`: how many items of the sorted list to skip (0 when absent). */
export const offsetParam = () =>
  z.coerce
    .number({ error: 'must be a whole number, 0 or more' })
    .int('must be a whole number, 0 or more')
    .min(0, 'must be a whole number, 0 or more')
    .default(0);

/**
 * `?sort=`: one of `keys`, `-key` for the reverse order; `fallback` when absent. The error lists
 * what may be asked.
 */
export function sortParam<K extends string>(keys: readonly K[], fallback: K) {
  const allowed = keys.flatMap((k) => [k, `-${k}`]);
  return z
    .string()
    .default(fallback)
    .refine((v) => allowed.includes(v), `must be one of ${allowed.join(', ')}`)
    .transform((v) => ({ key: (v.startsWith('-') ? v.slice(1) : v) as K, descending: v.startsWith('-') }));
}

/**
 * One page of `items` sorted by `sort` (a comparator per key; ties keep their order, and the
 * descending order is the ascending one read backwards), and how many there are in all — for the
 * `X-Total-Count` header of a list answer.
 */
export function pageOf<T, K extends string>(
  items: readonly T[],
  sort: { key: K; descending: boolean },
  comparators: Record<K, (a: T, b: T) => number>,
  window: { offset: number; limit?: number | undefined },
): { total: number; page: T[] } {
  const sorted = [...items].sort(comparators[sort.key]);
  if (sort.descending) sorted.reverse();
  const end = window.limit === undefined ? undefined : window.offset + window.limit;
  return { total: items.length, page: sorted.slice(window.offset, end) };
}
