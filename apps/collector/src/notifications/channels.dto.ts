import { z } from 'zod';
import { withoutControlCharacters } from '#rounds/plugins';
import { booleanParam, enumParam, limitParam, listQuery, orEmpty } from '../shared/dto.js';
import { CHANNEL_TYPES, OUTBOX_STATUSES } from '../storage/entities/index.js';
import { CHANNEL_SCHEMAS } from './channel-config.js';
import { instantField } from '../alerting/fields.js';
import { NOTIFICATION_KINDS, SEVERITIES } from './message.js';

const name = withoutControlCharacters(z.string().min(1).max(120));

/** A body's `config` judged by its `type`'s schema, errors under `config.<field>`. */
function configOfItsType(c: { type: (typeof CHANNEL_TYPES)[number]; config: Record<string, unknown> }, ctx: z.RefinementCtx): void {
  // zod skips this when a field has the wrong type; the config's errors then come on the next try.
  const parsed = CHANNEL_SCHEMAS[c.type].safeParse(c.config);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['config', ...issue.path] });
}

/**
 * A new channel. Its config is judged by its type's schema here, its errors (`config.<field>`)
 * listed with the rest so that one round trip shows everything; it is stored as sent, without
 * the schema's defaults. Name uniqueness is ChannelsService's.
 */
export const createChannelDto = z
  .strictObject({
    name,
    type: z.enum(CHANNEL_TYPES),
    config: z.record(z.string(), z.unknown()),
    enabled: z.boolean().default(true),
  })
  .superRefine(configOfItsType);
export type CreateChannelDto = z.output<typeof createChannelDto>;

/**
 * A change: the config is judged in ChannelsService, against the stored type and after the
 * stored secrets are put back where the redacted view was echoed.
 */
// Written out rather than `.partial()`: zod 4 would apply the defaults of a partial schema.
export const updateChannelDto = z.strictObject({
  name: name.optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  enabled: z.boolean().optional(),
});
export type UpdateChannelDto = z.output<typeof updateChannelDto>;

/**
 * `GET /channels/:id/deliveries?status=&alert=&sort=createdAt|-createdAt&limit=&offset=` (newest first, 50 by default):
 * `alert` is a fingerprint, and keeps the notifications about that alert.
 */
export const deliveriesQuery = listQuery(
  ['createdAt'],
  '-createdAt',
  {
    status: enumParam(OUTBOX_STATUSES),
    alert: z
      .string()
      .regex(/^[0-9a-f]{16}$/, 'must be the fingerprint of an alert (16 hex digits, as GET /api/v1/alerts gives it)')
      .optional(),
  },
  limitParam(1000, 50),
);
export type DeliveriesQuery = z.output<typeof deliveriesQuery>;

export const CHANNEL_SORT_KEYS = ['name', 'type', 'state'] as const;

/** `GET /channels?type=&state=&enabled=&name=&sort=&limit=&offset=`. */
export const listChannelsQuery = listQuery(CHANNEL_SORT_KEYS, 'name', {
  type: enumParam(CHANNEL_TYPES),
  state: enumParam(['ok', 'failing', 'unknown']),
  enabled: booleanParam(),
  name: z.string().max(120).optional(),
});
export type ListChannelsQuery = z.output<typeof listChannelsQuery>;

const label = withoutControlCharacters(z.string().max(500));

/** The alert a preview renders; every field has a sample default, so `{}` previews a typical firing alert. */
export const sampleAlertDto = z.strictObject({
  kind: z.enum(NOTIFICATION_KINDS).default('firing'),
  severity: z.enum(SEVERITIES).default('critical'),
  name: label.default('RoundsCheckFailing').meta({ description: 'alertname' }),
  title: label.default('PACS web on pacs-01 is CRITICAL'),
  check: label.default('PACS web'),
  agent: label.default('pacs-01'),
  reason: label.default('timeout'),
  summary: withoutControlCharacters(z.string().max(10_000)).default('no answer from https://pacs-01/ within 10 s'),
  labels: z
    .record(z.string().regex(/^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]*$/, 'must be a label name'), label)
    .default({ site: 'main', department: 'radiology' }),
  startsAt: instantField().optional().meta({ description: 'default: 12 minutes ago' }),
  endsAt: instantField().optional().meta({ description: 'resolved: when it ended (default: now)' }),
});
export type SampleAlertDto = z.output<typeof sampleAlertDto>;

/**
 * `POST /channels/:id/preview`: the stored channel, or with `template` in place of its own (null:
 * the default messages), rendering `alert`.
 */
export const previewDto = orEmpty(
  z.strictObject({
    template: z.record(z.string(), z.unknown()).nullable().optional(),
    alert: sampleAlertDto.default(() => sampleAlertDto.parse({})),
  }),
);
export type PreviewDto = z.output<typeof previewDto>;

/** `POST /channels/preview`: a channel not saved yet (as it would be created), rendering `alert`. */
export const previewUnsavedDto = z
  .strictObject({
    type: z.enum(CHANNEL_TYPES),
    config: z.record(z.string(), z.unknown()),
    alert: sampleAlertDto.default(() => sampleAlertDto.parse({})),
  })
  .superRefine(configOfItsType);
export type PreviewUnsavedDto = z.output<typeof previewUnsavedDto>;
