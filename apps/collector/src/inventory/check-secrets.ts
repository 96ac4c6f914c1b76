import { mapSecrets } from '#rounds/common';
import { isSealed, type SecretBox } from '../storage/secret-box.js';

/**
 * A check's secrets at rest: every config value its plugin's schema marks `x-secret` (an Orthanc
 * or SMB password, an http check's bearer token) is sealed inside `config_json` like a channel's,
 * the rest stays readable JSON. Only the agent that runs the check gets them in plaintext.
 */

/** The config as stored: its secrets sealed; one already sealed (an unchanged secret echoed back) is kept as it is. */
export function sealCheckConfig(schema: unknown, config: unknown, box: SecretBox): string {
  return JSON.stringify(mapSecrets(schema, config, (s) => (isSealed(s) ? s : box.seal(s))));
}

/** A deep copy of a JSON value with `fn` applied to every string in it (`field` is its path). */
function mapStrings(value: unknown, fn: (s: string, field: string) => string, field = 'config'): unknown {
  if (typeof value === 'string') return fn(value, field);
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, fn, `${field}.${i}`));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn, `${field}.${k}`)]));
}

/**
 * The config with every sealed value opened, found by its envelope rather than by a schema — so
 * it opens whatever was sealed, whatever the plugin's schema says today.
 */
export function openCheckConfig(config: unknown, box: SecretBox, checkName: string): unknown {
  return mapStrings(config, (s, field) => (isSealed(s) ? box.open(s, `${field} of check "${checkName}"`) : s));
}

/**
 * The stored config with every secret sealed under the box's current key — plaintext from before
 * encryption (found by `schema`) and values of an older key (found by their envelope) — or null
 * when there is nothing to do.
 */
export function resealCheckConfig(check: { name: string; configJson: string }, schema: unknown, box: SecretBox): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(check.configJson) as unknown;
  } catch {
    return null;
  }
  let changed = false;
  const reseal = (s: string, field: string) => {
    changed = true;
    return box.seal(box.open(s, `${field} of check "${check.name}"`));
  };
  const bySchema = mapSecrets(schema, parsed, (s, field) => (box.isCurrent(s) ? s : reseal(s, field)));
  const all = mapStrings(bySchema, (s, field) => (isSealed(s) && !box.isCurrent(s) ? reseal(s, field) : s));
  return changed ? JSON.stringify(all) : null;
}
