import { z } from 'zod';
import { CHANNEL_TYPES, OUTBOX_STATUSES } from '../../../storage/entities/index.js';
import { createChannelDto, deliveriesQuery, listChannelsQuery, previewDto, previewUnsavedDto, updateChannelDto } from '../../../notifications/channels.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** notifications/channels.service.ts ChannelView: secrets redacted, errors scrubbed. */
const channelView = z.strictObject({
  id: z.string(),
  name: z.string(),
  type: z.enum(CHANNEL_TYPES),
  config: z.record(z.string(), z.unknown()).meta({ description: "the type's config, secrets redacted" }),
  enabled: z.boolean(),
  state: z.enum(['ok', 'failing', 'unknown']),
  lastError: z.string().nullable(),
  lastSuccessAt: epochMs.nullable(),
  failingSince: epochMs.nullable(),
  outbox: z.record(z.enum(OUTBOX_STATUSES), z.number().int()).meta({ description: 'notifications in the outbox by status' }),
  createdAt: epochMs,
  updatedAt: epochMs,
});

const delivery = z.strictObject({
  key: z.string(),
  kind: z.string().nullable(),
  title: z.string().nullable(),
  status: z.enum(OUTBOX_STATUSES),
  attempts: z.number().int(),
  nextAttemptAt: epochMs.nullable(),
  lastError: z.string().nullable(),
  createdAt: epochMs,
  sentAt: epochMs.nullable(),
});

const ID = { id: "the channel's id or name" };

/** notifications/notifiers.ts Preview: the mail, or the JSON body of the request (URL and headers hold secrets and are left out). */
const preview = z.union([
  z.strictObject({
    type: z.literal('smtp'),
    mail: z.strictObject({
      from: z.string(),
      to: z.array(z.string()),
      subject: z.string(),
      text: z.string(),
      html: z.string(),
      messageId: z.string(),
      headers: z.record(z.string(), z.string()),
    }),
  }),
  z.strictObject({ type: z.enum(['telegram', 'webhook']), body: z.record(z.string(), z.unknown()).meta({ description: 'the JSON body as sent' }) }),
  z.strictObject({ type: z.literal('alertmanager'), body: z.array(z.record(z.string(), z.unknown())).meta({ description: 'the alerts as posted' }) }),
]);

export function channelRoutes(api: ApiRoutes): void {
  const channel = api.component('ChannelView', channelView);
  api.add({
    method: 'get',
    path: '/channels',
    role: 'viewer',
    query: listChannelsQuery,
    summary: 'Notification channels',
    ok: { status: 200, schema: z.array(channel), description: 'The channels.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/channels/:id',
    role: 'viewer',
    summary: 'One channel',
    params: ID,
    ok: { status: 200, schema: channel, description: 'The channel.' },
  });
  api.add({
    method: 'post',
    path: '/channels',
    role: 'admin',
    summary: 'Add a channel',
    description: "The config is judged by its type's schema.",
    body: createChannelDto,
    ok: { status: 201, schema: channel, description: 'The channel.' },
    errors: [409],
  });
  api.add({
    method: 'patch',
    path: '/channels/:id',
    role: 'admin',
    summary: 'Change a channel',
    description: 'A redacted secret sent back as shown keeps the stored one.',
    params: ID,
    body: updateChannelDto,
    ok: { status: 200, schema: channel, description: 'The channel as changed.' },
    errors: [409],
  });
  api.add({ method: 'delete', path: '/channels/:id', role: 'admin', summary: 'Remove a channel', params: ID, ok: { status: 204, description: 'Removed.' } });
  api.add({
    method: 'post',
    path: '/channels/:id/test',
    role: 'operator',
    summary: 'Send a test message now',
    params: ID,
    ok: {
      status: 200,
      schema: z.strictObject({ ok: z.boolean(), error: z.string().optional(), durationMs: z.number() }),
      description: 'Whether it went out; `ok: false` with `error` when the channel refused it.',
    },
  });
  api.add({
    method: 'post',
    path: '/channels/:id/preview',
    role: 'operator',
    summary: 'What the channel would send for an alert',
    description:
      'Renders a sample alert (or the one given) through the channel — with `template` in place of its own when given, `null` for the default messages — exactly as its notifier would send it. Sends nothing.',
    params: ID,
    body: previewDto,
    ok: { status: 200, schema: preview, description: 'The mail, or the JSON body of the request.' },
  });
  api.add({
    method: 'post',
    path: '/channels/preview',
    role: 'operator',
    summary: 'What a channel not saved yet would send',
    description: 'The body is a channel as it would be created (type and config, template included) and optionally the alert to render.',
    body: previewUnsavedDto,
    ok: { status: 200, schema: preview, description: 'The mail, or the JSON body of the request.' },
  });
  api.add({
    method: 'get',
    path: '/channels/:id/deliveries',
    role: 'viewer',
    summary: "A channel's notifications and what became of them",
    description: '`alert` (a fingerprint) keeps the notifications about one alert.',
    params: ID,
    query: deliveriesQuery,
    ok: { status: 200, schema: z.array(delivery), description: 'One page, newest first unless sorted.', headers: TOTAL_COUNT },
  });
}
