import { z } from 'zod';
import { CHANNEL_TYPES, OUTBOX_STATUSES } from '../../../storage/entities/index.js';
import { createChannelDto, deliveriesQuery, listChannelsQuery, updateChannelDto } from '../../../notifications/channels.dto.js';
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
