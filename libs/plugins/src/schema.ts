import { z } from 'zod';
import { isTimeZone, parseRange, type ThresholdRange } from '#rounds/common';

/** JSON Schema keyword marking a property as secret (redacted in UI, API and logs). */
export const SECRET_KEYWORD = 'x-secret';

/** A string that is a secret: redacted everywhere it is shown. */
export function secret(description?: string) {
  return z
    .string()
    .min(1)
    .meta({ [SECRET_KEYWORD]: true, ...(description ? { description } : {}) });
}

/**
 * A Nagios threshold range (`10`, `10:`, `~:10`, `10:20`, `@10:20`), given as text or
 * a number; parsed once at validation into a {@link ThresholdRange}.
 */
export function thresholdRange(description: string) {
  return z
    .union([z.string(), z.number()])
    .meta({ description: `${description} (Nagios range: 10, 10:, ~:10, 10:20, @10:20)` })
    .transform((value, ctx): ThresholdRange => {
      try {
        return parseRange(value);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    });
}

/** host name or IP literal: no scheme, no port, no spaces. */
export function hostname() {
  return z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9._:-]+$/, 'must be a host name or IP address, without scheme or port');
}

export function port() {
  return z.number().int().min(1).max(65535);
}

const HH_MM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const TIME_OF_DAY = 'must be a time of day like 02:00 (24-hour HH:MM)';

/** A wall-clock time of day, "HH:MM" on the 24-hour clock (maintenance windows, working hours). */
export function timeOfDay() {
  return z.string({ error: (i) => (i.input === undefined ? 'is required' : TIME_OF_DAY) }).regex(HH_MM, TIME_OF_DAY);
}

/** An IANA time zone name this runtime knows ("Europe/Berlin", "UTC"). */
export function timeZoneName() {
  return z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be an IANA time zone name like Europe/Berlin') })
    .refine(isTimeZone, { error: (i) => `${JSON.stringify(i.input)} is not an IANA time zone name: write one like Europe/Berlin or UTC` });
}

/** One field that failed validation: `field` is a dotted path ("" for the object itself). */
export interface FieldError {
  field: string;
  message: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Runs a schema and turns its issues into field-named errors. */
export function validateWith<S extends z.ZodType>(schema: S, input: unknown): Validation<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: issuesToFieldErrors(result.error.issues) };
}

export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
      }
    } else if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      // zod's own words for a record key are "Invalid key in record": the key schema's say what is wrong.
      for (const inner of issue.issues) errors.push({ field: base, message: inner.message });
    } else {
      errors.push({ field: base, message: issue.message });
    }
  }
  return errors;
}

/** "url: Invalid URL; extra: unknown field" — for logs and CLI output. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
}

/** The JSON Schema of a plugin's config as sent in Describe (input side: defaults are optional). */
export function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}

/**
 * A validator for a config from the JSON Schema an agent reported for one of its plugins (a custom
 * plugin the collector has no code for). What JSON Schema cannot carry — a plugin's own messages,
 * cross-field rules — is left to the agent, which validates again when the check reaches it; an
 * agent's schema that zod cannot read validates nothing here rather than refusing every save.
 */
export function describedConfigValidator(jsonSchemaText: string): (config: unknown) => Validation<unknown> {
  let schema: z.ZodType | undefined;
  try {
    schema = z.fromJSONSchema(JSON.parse(jsonSchemaText) as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    schema = undefined;
  }
  return (config) => {
    if (schema === undefined) return { ok: true, value: config };
    const r = schema.safeParse(config);
    return r.success ? { ok: true, value: r.data } : { ok: false, errors: issuesToFieldErrors(r.error.issues) };
  };
}
