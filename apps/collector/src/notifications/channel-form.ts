import { REDACTED } from '#rounds/common';
import { CHANNEL_TYPES, type ChannelType } from '../storage/entities/index.js';
import { CHANNEL_JSON_SCHEMAS } from './channel-config.js';

// The pages pick a type without reaching into the storage layer.
export { CHANNEL_TYPES, type ChannelType };

/** A scalar as text; '' for anything else (never "[object Object]"). */
export function scalarText(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/**
 * The admin UI's form for a channel type, derived from the type's JSON Schema so that a field
 * added to a schema appears in the form without a second hand-kept list.
 * `lines`: a list, one item a line; `pairs`: a record, `Name: value` one a line.
 */
export type ChannelFieldKind = 'text' | 'number' | 'boolean' | 'choice' | 'lines' | 'pairs';

export interface ChannelField {
  name: string;
  kind: ChannelFieldKind;
  /** Write-only: never shown back; left empty when editing, the stored value is kept. */
  secret: boolean;
  required: boolean;
  description: string | undefined;
  choices: string[];
  defaultValue: string | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(schema: Record<string, unknown>): ChannelFieldKind {
  if (Array.isArray(schema['enum'])) return 'choice';
  if (schema['type'] === 'boolean') return 'boolean';
  if (schema['type'] === 'integer' || schema['type'] === 'number') return 'number';
  if (schema['type'] === 'array') return 'lines';
  if (schema['type'] === 'object') return 'pairs';
  // chatId is "a number or a text": a text box, sent as a number when it is one.
  return 'text';
}

function fieldsOf(type: ChannelType): ChannelField[] {
  const schema = CHANNEL_JSON_SCHEMAS[type];
  const props = isObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? (schema['required'] as string[]) : [];
  return Object.entries(props).map(([name, p]) => {
    const prop = isObject(p) ? p : {};
    const additional = prop['additionalProperties'];
    const def = prop['default'];
    return {
      name,
      kind: kindOf(prop),
      secret: prop['x-secret'] === true || (isObject(additional) && additional['x-secret'] === true),
      // A field with a default is optional in the form even where the output type requires it.
      required: required.includes(name) && def === undefined,
      description: typeof prop['description'] === 'string' ? prop['description'] : undefined,
      choices: Array.isArray(prop['enum']) ? prop['enum'].map(String) : [],
      defaultValue: scalarText(def) || undefined,
    };
  });
}

export const CHANNEL_FORM_FIELDS: Record<ChannelType, ChannelField[]> = Object.fromEntries(
  Object.keys(CHANNEL_JSON_SCHEMAS).map((type) => [type, fieldsOf(type as ChannelType)]),
) as Record<ChannelType, ChannelField[]>;

/** A field's value as the form shows it ('' for a secret: secrets are write-only). */
export function fieldText(field: ChannelField, value: unknown): string {
  if (field.secret || value === undefined || value === null) return '';
  if (field.kind === 'lines' && Array.isArray(value)) return value.map(String).join('\n');
  if (field.kind === 'pairs' && isObject(value))
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${scalarText(v)}`)
      .join('\n');
  return scalarText(value);
}

/** The form's text per field, from a stored config as the API shows it (redacted). */
export function channelFormValues(type: ChannelType, config: unknown): Record<string, string> {
  const c = isObject(config) ? config : {};
  return Object.fromEntries(CHANNEL_FORM_FIELDS[type].map((f) => [f.name, fieldText(f, c[f.name])]));
}

/**
 * The config a submitted form describes, for the schema to judge. An empty field is left out
 * (the schema's default or its "required" applies); an empty secret field on edit sends the
 * redacted placeholder back, which ChannelsService replaces by the stored secret.
 */
export function configFromForm(type: ChannelType, form: Record<string, string>, redactedStored?: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of CHANNEL_FORM_FIELDS[type]) {
    const text = (form[field.name] ?? '').trim();
    if (text === '') {
      if (field.secret && redactedStored && redactedStored[field.name] !== undefined) config[field.name] = redactedStored[field.name];
      continue;
    }
    config[field.name] = parseField(field, text);
  }
  return config;
}

function parseField(field: ChannelField, text: string): unknown {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  switch (field.kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'lines':
      return lines;
    case 'pairs': {
      const out: Record<string, string> = {};
      for (const line of lines) {
        const at = line.indexOf(':');
        // A line without a colon becomes a key the schema refuses by name.
        if (at < 0) out[line] = '';
        else out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      return out;
    }
    default:
      return field.name === 'chatId' && /^-?\d+$/.test(text) ? Number(text) : text;
  }
}

/** Whether a config (as the API shows it) has a value for a secret field: "set — leave empty to keep". */
export function secretIsSet(config: unknown, field: string): boolean {
  const v = isObject(config) ? config[field] : undefined;
  return v === REDACTED || (isObject(v) && Object.keys(v).length > 0);
}
