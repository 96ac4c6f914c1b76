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
