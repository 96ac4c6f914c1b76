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
export function sortParam<K extends string>(keys: readonly K[], fallback: K | `-${K}`) {
  const allowed = keys.flatMap((k) => [k, `-${k}`]);
  return z
    .string()
    .default(fallback)
    .refine((v) => allowed.includes(v), `must be one of ${allowed.join(', ')}`)
    .transform((v) => ({ key: (v.startsWith('-') ? v.slice(1) : v) as K, descending: v.startsWith('-') }));
}

/**
 * The query of a list (`GET /api/v1/<things>`): its `filters`, `?sort=` over `keys` (`fallback`
 * when absent), `?limit=` (by default a page of at most 10,000 when given, the whole list
 * without it; a list too long to give whole passes limitParam) and `?offset=`. One shape for every list of the API; the answer carries `X-Total-Count`.
 */
export function listQuery<K extends string, F extends z.ZodRawShape = Record<never, never>>(
  keys: readonly K[],
  fallback: K | `-${K}`,
  filters: F = {} as F,
  limit: z.ZodType<number | undefined, unknown> = pageLimitParam(),
) {
  // Strict: a misspelt filter (`?stat=DOWN`) would otherwise list everything.
  return z.strictObject(filters).extend({ sort: sortParam(keys, fallback), limit, offset: offsetParam() });
}

/** A filter taking one of `values` (`?state=DOWN`); absent: no filter. */
export const enumParam = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` }).optional();

/** A yes-or-no filter (`?enabled=true`), kept as its text: the matcher compares. */
export const booleanParam = () => z.enum(['true', 'false'], { error: 'must be true or false' }).optional();

/** What a list's query asks of its pagination and order (listQuery's output). */
export interface ListWindow<K extends string> {
  sort: { key: K; descending: boolean };
  offset: number;
  limit?: number | undefined;
}

/**
 * Per filter of a list's query, whether an item passes it (called only when the filter is given).
 * Keys are the query's own, so a filter the schema does not take cannot be matched on.
 */
export type Matchers<T, Q> = { [F in keyof Q]?: (item: T, value: NonNullable<Q[F]>) => boolean };

/** A list held in memory, filtered by `matchers` (every given filter must pass), then sorted and paged as pageOf. */
export function listPage<T, K extends string, Q extends ListWindow<K>>(
  items: readonly T[],
  query: Q,
  order: Record<K, (a: T, b: T) => number>,
  matchers: Matchers<T, Q> = {},
): { total: number; page: T[] } {
  const given = (Object.entries(matchers) as [keyof Q, (item: T, value: unknown) => boolean][]).filter(([f]) => query[f] !== undefined);
  const kept = given.length === 0 ? items : items.filter((item) => given.every(([f, match]) => match(item, query[f])));
  return pageOf(kept, query.sort, order, query);
}

/** Orders by a text field, the same for every list: case-insensitive, then as written. */
export const byText =
  <T>(field: (item: T) => string) =>
  (a: T, b: T): number => {
    const [x, y] = [field(a), field(b)];
    return x.localeCompare(y, 'en', { sensitivity: 'base' }) || (x < y ? -1 : x > y ? 1 : 0);
  };

/** Orders by a time or count, absent (null) first. */
export const byNumber =
  <T>(field: (item: T) => number | null) =>
  (a: T, b: T): number => {
    const [x, y] = [field(a), field(b)];
    return x === y ? 0 : x === null ? -1 : y === null ? 1 : x - y;
  };

/** A name filter: the text anywhere in the name, in any case (`?name=pacs`). */
export const nameContains = (name: string, wanted: string): boolean => name.toLowerCase().includes(wanted.toLowerCase());

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
