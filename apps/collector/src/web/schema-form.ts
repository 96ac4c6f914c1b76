/**
 * A config form generated from a JSON Schema: a plugin's (what the agent's Describe sends, or a
 * built-in's) or a notification channel type's. Every plugin — custom ones included — and every
 * channel type gets a form without anyone writing one. Each schema shape maps to the plainest
 * input that holds it, and what no input holds well (an array of objects) is a JSON text box,
 * still checked by the schema on save.
 */
export type FieldKind = 'text' | 'multiline' | 'number' | 'integer' | 'boolean' | 'select' | 'secret' | 'lines' | 'pairs' | 'json' | 'group';

export interface FormField {
  /** `config.tls.caFile`: the form field's name and the error's field. */
  name: string;
  path: readonly string[];
  label: string;
  description: string;
  kind: FieldKind;
  required: boolean;
  /** The schema's default, as the form shows it (a hint: an empty field is left out and the plugin applies it). */
  defaultText: string | null;
  options: readonly string[];
  /** Strings and numbers both allowed (`["string","number"]`, Nagios ranges, a Telegram chat id): a number-like entry is sent as a number. */
  numberOrText: boolean;
  /**
   * Write-only (`x-secret` on the value, or on every value of a `pairs` field such as a webhook's
   * headers): never put in a page; left empty, the stored one is kept.
   */
  secret: boolean;
  fields: readonly FormField[];
}

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

function typesOf(s: Schema): string[] {
  if (typeof s['type'] === 'string') return [s['type']];
  if (Array.isArray(s['type'])) return s['type'].filter((t): t is string => typeof t === 'string');
  const alternatives = s['anyOf'] ?? s['oneOf'];
  if (Array.isArray(alternatives)) return alternatives.flatMap((a) => (isObject(a) ? typesOf(a) : []));
  return [];
}

/** `connectTimeoutSeconds` → `Connect timeout seconds`. */
function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .replace(/\b(url|tls|aet|smb|ca|sni|dicom|http|json|id|hmac)\b/g, (w) => w.toUpperCase());
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function kindOf(s: Schema): { kind: FieldKind; numberOrText: boolean; options: string[] } {
  const types = typesOf(s);
  const plain = { numberOrText: false, options: [] as string[] };
  if (s['x-secret'] === true) return { kind: 'secret', ...plain };
  if (Array.isArray(s['enum']) && s['enum'].every((e) => typeof e === 'string')) return { kind: 'select', numberOrText: false, options: s['enum'] };
  // A text whose line breaks matter (a message template's body): a text input would drop them.
  if (s['x-multiline'] === true && types.join() === 'string') return { kind: 'multiline', ...plain };
  if (types.length === 1 && types[0] === 'boolean') return { kind: 'boolean', ...plain };
  if (types.length === 1 && (types[0] === 'integer' || types[0] === 'number')) return { kind: types[0], ...plain };
  if (types.length === 1 && types[0] === 'object' && isObject(s['properties'])) return { kind: 'group', ...plain };
  if (types.length === 1 && types[0] === 'object' && isObject(s['additionalProperties']) && typesOf(s['additionalProperties']).join() === 'string')
    return { kind: 'pairs', ...plain };
  if (types.length === 1 && types[0] === 'array' && isObject(s['items']) && typesOf(s['items']).join() === 'string') return { kind: 'lines', ...plain };
  if (types.every((t) => t === 'string' || t === 'number' || t === 'integer') && types.includes('string'))
    return { kind: 'text', numberOrText: types.length > 1, options: [] };
  return { kind: 'json', ...plain };
}

/** The fields of an object schema, in its order; `prefix` is the path to it. */
export function fieldsOf(schema: unknown, prefix: readonly string[] = []): FormField[] {
  if (!isObject(schema) || !isObject(schema['properties'])) return [];
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  return Object.entries(schema['properties']).flatMap(([key, property]) => {
    if (!isObject(property)) return [];
    const path = [...prefix, key];
    const { kind, numberOrText, options } = kindOf(property);
    const d = property['default'];
    const defaultText = d === undefined || (isObject(d) && Object.keys(d).length === 0) || (Array.isArray(d) && d.length === 0) ? null : textOf(kind, d);
    const values = property['additionalProperties'];
    const secret = kind === 'secret' || (kind === 'pairs' && isObject(values) && values['x-secret'] === true);
    return [
      {
        name: ['config', ...path].join('.'),
        path,
        label: labelOf(key),
        description: typeof property['description'] === 'string' ? property['description'] : '',
        kind,
        required: required.has(key),
        defaultText,
        options,
        numberOrText,
        secret,
        fields: kind === 'group' ? fieldsOf(property, path) : [],
      },
    ];
  });
}

/** A value as its input shows it. */
function textOf(kind: FieldKind, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (kind === 'lines' && Array.isArray(value)) return value.map(String).join('\n');
  if (kind === 'pairs' && isObject(value))
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join('\n');
  if (kind === 'json') return JSON.stringify(value, null, 2);
  if (kind === 'boolean') return value === true ? 'true' : 'false';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function at(config: unknown, path: readonly string[]): unknown {
  let v = config;
  for (const key of path) v = isObject(v) ? v[key] : undefined;
  return v;
}

/** Whether a secret has a value: a password, or a record with at least one entry. */
const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && !(isObject(v) && Object.keys(v).length === 0);

/**
 * The form's values for a stored config (field name → text). A secret's value is never put in
 * the page: its entry says only whether one is stored ("set — leave empty to keep").
 */
export function valuesOf(fields: readonly FormField[], config: unknown): { values: Record<string, string>; secretsSet: Set<string> } {
  const values: Record<string, string> = {};
  const secretsSet = new Set<string>();
  const walk = (list: readonly FormField[]) => {
    for (const f of list) {
      const v = at(config, f.path);
      if (f.kind === 'group') walk(f.fields);
      else if (f.secret) {
        if (isSet(v)) secretsSet.add(f.name);
      } else if (v !== undefined) values[f.name] = textOf(f.kind, v);
    }
  };
  walk(fields);
  return { values, secretsSet };
}

/** A form's text for `name`: the last when a name came more than once (a checkbox after its hidden "false"). */
export function formValue(body: unknown, name: string): string | undefined {
  const v = isObject(body) ? body[name] : undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const last = v.at(-1) as unknown;
    return typeof last === 'string' ? last : undefined;
  }
  return undefined;
}

/**
 * The config a posted form describes, and the errors of fields that could not be read (a
 * number that is not one, a line without `key: value`, JSON that does not parse). Empty fields
 * are left out (the schema's defaults apply). An empty write-only field takes what `secret`
 * gives (text typed before a test, carried sealed), else the `stored` config's value — the
 * stored config as views show it, its secrets redacted, which the service puts back
 * (`restoreRedacted`) — else is left out. `values` is what was typed, secrets excepted (for
 * showing the form again); `secrets` is the text of every write-only field typed or carried
 * (for carrying sealed, never for a page).
 */
export function configFrom(
  fields: readonly FormField[],
  body: unknown,
  secret: (name: string) => string | undefined = () => undefined,
  stored: unknown = undefined,
): { config: Record<string, unknown>; errors: Record<string, string>; values: Record<string, string>; secrets: Record<string, string> } {
  const errors: Record<string, string> = {};
  const values: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  const build = (list: readonly FormField[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const f of list) {
      const key = f.path.at(-1)!;
      if (f.kind === 'group') {
        const inner = build(f.fields);
        if (Object.keys(inner).length > 0) out[key] = inner;
        continue;
      }
      const posted = formValue(body, f.name) ?? '';
      // A password may be spaces; any other field is empty when blank.
      const empty = (t: string) => (f.kind === 'secret' ? t === '' : t.trim() === '');
      const text = (f.secret && empty(posted) ? (secret(f.name) ?? '') : posted).slice(0, 20_000);
      if (!f.secret) values[f.name] = text;
      else if (!empty(text)) secrets[f.name] = text;
      else {
        const kept = at(stored, f.path);
        if (isSet(kept)) out[key] = kept;
        continue;
      }
      const trimmed = text.trim();
      if (f.kind === 'secret') {
        out[key] = text;
        continue;
      }
      if (f.kind === 'boolean') {
        if (text === 'true' || text === 'false') out[key] = text === 'true';
        continue;
      }
      if (trimmed === '') continue;
      switch (f.kind) {
        case 'number':
        case 'integer': {
          const n = Number(trimmed);
          if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n)))
            errors[f.name] = `must be ${f.kind === 'integer' ? 'a whole number' : 'a number'}, not "${trimmed}"`;
          else out[key] = n;
          break;
        }
        case 'lines':
          out[key] = text
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter((l) => l !== '');
          break;
        case 'pairs': {
          const pairs: Record<string, string> = {};
          const lines = text.split(/\r?\n/);
          for (const [i, line] of lines.entries()) {
            if (line.trim() === '') continue;
            const colon = line.indexOf(':');
            if (colon <= 0) {
              // A secret's line is not quoted: it may be the secret itself, typed without its name.
              const which = f.secret ? `line ${i + 1}` : `"${line.trim().slice(0, 40)}"`;
              errors[f.name] = `write one "Name: value" a line (${which} has no colon)`;
              break;
            }
            pairs[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
          }
          out[key] = pairs;
          break;
        }
        case 'multiline':
          out[key] = text.replace(/\r\n/g, '\n');
          break;
        case 'json':
          try {
            out[key] = JSON.parse(trimmed) as unknown;
          } catch (e) {
            errors[f.name] = `is not JSON (${(e as Error).message}): write it as JSON, e.g. [{"path": "$.status", "equals": "UP"}]`;
          }
          break;
        default:
          out[key] = f.numberOrText && /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : text;
      }
    }
    return out;
  };
  return { config: build(fields), errors, values, secrets };
}

/**
 * The text each write-only field would hold for a config's secrets (field name → text), for
 * carrying them sealed into a form (a clone keeps its source's secrets); never for a page.
 */
export function secretTexts(fields: readonly FormField[], config: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (list: readonly FormField[]) => {
    for (const f of list) {
      const v = at(config, f.path);
      if (f.kind === 'group') walk(f.fields);
      else if (f.secret && isSet(v)) out[f.name] = textOf(f.kind, v);
    }
  };
  walk(fields);
  return out;
}

/**
 * The form field beside which an error about `field` shows: the deepest field that holds it
 * (`config.json.0.path` → `config.json`, `config.headers.Bad Header` → `config.headers`),
 * `config` for the config as a whole, or `field` itself when it is not in the config.
 */
export function formFieldOf(fields: readonly FormField[], field: string): string {
  if (field !== 'config' && !field.startsWith('config.')) return field;
  const names = new Set<string>();
  const walk = (list: readonly FormField[]) => list.forEach((f) => (names.add(f.name), walk(f.fields)));
  walk(fields);
  const parts = field.split('.');
  for (let n = parts.length; n > 1; n--) if (names.has(parts.slice(0, n).join('.'))) return parts.slice(0, n).join('.');
  return 'config';
}
