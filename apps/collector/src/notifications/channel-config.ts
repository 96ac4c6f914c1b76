import { z } from 'zod';
import { REDACTED } from '#rounds/common';
import { hostname, issuesToFieldErrors, port, toJsonSchema, type FieldError } from '#rounds/plugins';
import { CHANNEL_TYPES, type ChannelType } from '../storage/entities/index.js';
import { mailTemplateSchema, messageTemplateSchema } from './templates.js';

// The channel pages pick a type without reaching into the storage layer.
export { CHANNEL_TYPES, type ChannelType };

/**
 * Channel configs, one strict schema per type. Secrets carry `x-secret` in the JSON
 * Schema, so `redactSecrets`/`restoreRedacted` from #rounds/common handle them like
 * plugin secrets. `.meta()` is applied last: zod keeps metadata per schema instance.
 */
const secret = (description: string, pattern?: { regex: RegExp; message: string }) =>
  (pattern ? z.string().min(1).regex(pattern.regex, pattern.message) : z.string().min(1)).meta({ 'x-secret': true, description });

/** `secret`: the URL itself is the credential (a Slack or Teams incoming webhook). */
const httpUrl = (description: string, options: { secret?: true } = {}) =>
  z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).meta({ description, ...(options.secret ? { 'x-secret': true } : {}) });

const email = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an e-mail address like it@hospital.example');

export const smtpConfigSchema = z
  .strictObject({
    host: hostname().meta({ description: 'SMTP server (relay) host name or IP address' }),
    port: port().default(587),
    security: z.enum(['starttls', 'tls', 'none']).default('starttls').meta({
      description:
        'starttls: plain connection upgraded with STARTTLS, required (587); tls: TLS from the first byte (465); none: no encryption (local relays only)',
    }),
    username: z.string().min(1).optional(),
    password: secret('SMTP password').optional(),
    from: email.meta({ description: 'sender address' }),
    to: z.array(email).min(1).max(50).meta({ description: 'recipients' }),
    verifyCertificate: z
      .boolean()
      .default(true)
      .meta({ description: "check the server's TLS certificate (turn off only for a relay with a self-signed certificate; prefer caCertificate)" }),
    caCertificate: z
      .string()
      .includes('-----BEGIN CERTIFICATE-----', { message: 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)' })
      .optional()
      .meta({ description: "PEM of the CA that signed the server's certificate (an in-house CA)" }),
    template: mailTemplateSchema.optional(),
  })
  .refine((c) => c.password === undefined || c.username !== undefined, { path: ['username'], message: 'is required when a password is set' });

export const telegramConfigSchema = z.strictObject({
  baseUrl: httpUrl('Bot API server (a local Bot API server or a proxy on networks without internet access)').default('https://api.telegram.org'),
  botToken: secret('bot token from @BotFather', { regex: /^\d+:[A-Za-z0-9_-]+$/, message: 'must look like 123456:ABC-DEF… (the token @BotFather gave)' }),
  chatId: z
    .union([z.number().int(), z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{4,})$/, 'must be a numeric chat id or @channelname')])
    .meta({ description: 'chat, group or channel to post to' }),
  messageThreadId: z.number().int().positive().optional().meta({ description: 'topic in a forum group' }),
  silent: z.boolean().default(false).meta({ description: 'deliver without sound' }),
  template: messageTemplateSchema.optional(),
});

const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const headerName = z.string().regex(HEADER_NAME, 'must be an HTTP header name');

/** A record whose keys must match `pattern`; zod's own key check reports only "Invalid key in record". */
function keysMatching<T extends z.ZodType>(pattern: RegExp, message: string, value: T) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) if (!pattern.test(key)) ctx.addIssue({ code: 'custom', path: [key], message });
  });
}

export const webhookConfigSchema = z.strictObject({
  url: httpUrl('receives a JSON POST (treated as a secret: for Slack or Teams the URL is the credential)', { secret: true }),
  hmacSecret: secret('signs the body: header = "sha256=" + hex HMAC-SHA256(secret, body)').optional(),
  signatureHeader: headerName.default('X-Rounds-Signature'),
  headers: keysMatching(HEADER_NAME, 'must be an HTTP header name', z.string().meta({ 'x-secret': true }))
    .optional()
    .meta({ description: 'extra headers, e.g. Authorization (values are treated as secrets)' }),
  template: messageTemplateSchema
    .optional()
    .meta({ description: 'template of the `text` field (what Slack and Teams show); the other fields stay structured' }),
});

export const alertmanagerConfigSchema = z
  .strictObject({
    url: httpUrl('Alertmanager base URL, e.g. http://alertmanager:9093 (alerts go to /api/v2/alerts)'),
    username: z.string().min(1).optional(),
    password: secret('basic-auth password').optional(),
    labels: keysMatching(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name', z.string())
      .default({})
      .meta({ description: 'extra labels on every alert, e.g. {"site": "main-hospital"}' }),
    resolveAfterMinutes: z
      .number()
      .int()
      .min(5)
      .max(10_080)
      .default(60)
      .meta({ description: 'endsAt of a firing alert: Alertmanager resolves it by itself unless it is re-sent (reminders) or resolved before' }),
  })
  .refine((c) => c.password === undefined || c.username !== undefined, { path: ['username'], message: 'is required when a password is set' });

export const CHANNEL_SCHEMAS = {
  smtp: smtpConfigSchema,
  telegram: telegramConfigSchema,
  webhook: webhookConfigSchema,
  alertmanager: alertmanagerConfigSchema,
} satisfies Record<ChannelType, z.ZodType>;

export type SmtpConfig = z.output<typeof smtpConfigSchema>;
export type TelegramConfig = z.output<typeof telegramConfigSchema>;
export type WebhookConfig = z.output<typeof webhookConfigSchema>;
export type AlertmanagerConfig = z.output<typeof alertmanagerConfigSchema>;

/** A channel's type with its config, parsed: what a notifier receives. */
export type ChannelConfig =
  | { type: 'smtp'; config: SmtpConfig }
  | { type: 'telegram'; config: TelegramConfig }
  | { type: 'webhook'; config: WebhookConfig }
  | { type: 'alertmanager'; config: AlertmanagerConfig };

/** JSON Schema per type (input side), computed once: what the UI builds forms from and redaction walks. */
export const CHANNEL_JSON_SCHEMAS: Record<ChannelType, Record<string, unknown>> = Object.fromEntries(
  Object.entries(CHANNEL_SCHEMAS).map(([type, schema]) => [type, toJsonSchema(schema)]),
) as Record<ChannelType, Record<string, unknown>>;

export type ConfigValidation = { ok: true; value: ChannelConfig } | { ok: false; errors: FieldError[] };

/** Validates a config for its type; errors are named `config.<field>`. */
export function validateChannelConfig(type: ChannelType, config: unknown): ConfigValidation {
  const parsed = CHANNEL_SCHEMAS[type].safeParse(config);
  if (!parsed.success) {
    return {
      ok: false,
      errors: issuesToFieldErrors(parsed.error.issues).map((e) => ({ field: e.field ? `config.${e.field}` : 'config', message: e.message })),
    };
  }
  return { ok: true, value: { type, config: parsed.data } as ChannelConfig };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every secret value in `value`, found the way `redactSecrets` finds them. */
export function secretValues(schema: unknown, value: unknown, out: string[] = []): string[] {
  if (!isObject(schema)) return out;
  if (schema['x-secret'] === true) {
    if (typeof value === 'string' && value !== '') out.push(value);
    return out;
  }
  if (Array.isArray(value)) {
    for (const item of value) secretValues(schema['items'], item, out);
    return out;
  }
  if (!isObject(value)) return out;
  const props = isObject(schema['properties']) ? schema['properties'] : {};
  for (const [k, v] of Object.entries(value)) secretValues(k in props ? props[k] : schema['additionalProperties'], v, out);
  return out;
}

/**
 * Replaces every secret of the channel that occurs in `text` (an error from a library or a
 * server may echo a URL or credential) before it is stored, logged or shown.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join(REDACTED);
  }
  return out;
}
