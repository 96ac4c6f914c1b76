/**
 * Secrets are marked in a plugin's JSON Schema with `"x-secret": true`. Anything
 * that shows a config to a person (API, UI, logs) passes it through
 * {@link redactSecrets} with the schema the agent described.
 */
export const REDACTED = '••••••';

type JsonSchema = { [key: string]: unknown };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A deep copy of `value` with `fn` applied to every non-empty string the schema marks secret
 * (`field` is its path, e.g. `config.auth.password`, for messages): what seals a config's
 * secrets at rest and opens them again, walking the same shapes {@link redactSecrets} redacts.
 */
export function mapSecrets(schema: unknown, value: unknown, fn: (secret: string, field: string) => string, field = 'config'): unknown {
  if (!isObject(schema)) return value;
  if (schema['x-secret'] === true) return typeof value === 'string' && value !== '' ? fn(value, field) : value;
  if (Array.isArray(value)) return value.map((item, i) => mapSecrets(schema['items'], item, fn, `${field}.${i}`));
  if (!isObject(value)) return value;
  const props = isObject(schema['properties']) ? schema['properties'] : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = mapSecrets(k in props ? props[k] : schema['additionalProperties'], v, fn, `${field}.${k}`);
  return out;
}

/** Returns a deep copy of `value` with every property the schema marks secret replaced by {@link REDACTED}. */
export function redactSecrets(schema: unknown, value: unknown): unknown {
  if (!isObject(schema)) return value;
  if (schema['x-secret'] === true) return value === undefined || value === '' ? value : REDACTED;
  if (Array.isArray(value)) {
    return value.map((item) => redactSecrets(schema['items'], item));
  }
  if (!isObject(value)) return value;
  const props = isObject(schema['properties']) ? (schema['properties'] as JsonSchema) : {};
  const additional = schema['additionalProperties'];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = redactSecrets(k in props ? props[k] : additional, v);
  }
  return out;
}

/**
 * Puts back secrets that a form sent as {@link REDACTED} (the user did not change
 * them) from the stored config, so editing a check never needs the password again.
 */
export function restoreRedacted(schema: unknown, submitted: unknown, stored: unknown): unknown {
  if (!isObject(schema)) return submitted;
  if (schema['x-secret'] === true) return submitted === REDACTED ? stored : submitted;
  // Must walk every shape redactSecrets redacts, or the placeholder would be saved as the secret.
  if (Array.isArray(submitted)) {
    return submitted.map((item, i) => restoreRedacted(schema['items'], item, Array.isArray(stored) ? stored[i] : undefined));
  }
  if (!isObject(submitted)) return submitted;
  const props = isObject(schema['properties']) ? (schema['properties'] as JsonSchema) : {};
  const additional = schema['additionalProperties'];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(submitted)) {
    out[k] = restoreRedacted(k in props ? props[k] : additional, v, isObject(stored) ? stored[k] : undefined);
  }
  return out;
}
