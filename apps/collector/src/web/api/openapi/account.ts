import { z } from 'zod';
import { USER_ROLES } from '../../../users/user.entity.js';
import { createTokenDto, listTokensQuery } from '../../../auth/api-tokens.dto.js';
import { changePasswordDto } from '../../../users/users.dto.js';
import { userView } from './users.js';
import { listSessionsQuery } from '../../../auth/sessions.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** auth/api-tokens.service.ts ApiTokenView: never the token. */
const tokenView = z.strictObject({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  prefix: z.string().meta({ description: "the token's first characters, to recognise it by" }),
  createdAt: epochMs,
  expiresAt: epochMs.nullable(),
  lastUsedAt: epochMs.nullable(),
  lastUsedAddress: z.string().nullable(),
  revokedAt: epochMs.nullable(),
  state: z.enum(['active', 'expired', 'revoked']),
});

const session = z.strictObject({
  id: z.string(),
  createdAt: epochMs,
  lastSeenAt: epochMs,
  expiresAt: epochMs,
  address: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean().meta({ description: 'the session making the request' }),
});

const TOKEN_ID = { id: "the token's id or prefix" };

/** The caller's own: who they are, their browser sessions and their API tokens. */
export function accountRoutes(api: ApiRoutes): void {
  const token = api.component('ApiTokenView', tokenView);
  const madeToken = z.strictObject({ token: z.string().meta({ description: 'the token: its only showing' }), view: token });
  api.add({
    method: 'get',
    path: '/me',
    role: 'self',
    summary: 'Who the caller is',
    ok: {
      status: 200,
      schema: z.strictObject({ id: z.string(), name: z.string(), role: z.enum(USER_ROLES), via: z.enum(['session', 'token']) }),
      description: 'The caller.',
    },
  });
  api.add({
    method: 'post',
    path: '/me/password',
    role: 'self',
    summary: "Change the caller's password",
    description: "As on the Account page: the current password, then the new one; the caller's other sessions end.",
    body: changePasswordDto,
    ok: {
      status: 200,
      schema: z.strictObject({ user: userView, sessionsEnded: z.number().int().meta({ description: 'how many other sessions were ended' }) }),
      description: 'The password is changed.',
    },
  });
  api.add({
    method: 'get',
    path: '/settings',
    role: 'admin',
    summary: 'The settings in effect',
    description:
      'What the settings page shows: each setting now and the environment variable that sets it (applied at the next start); secrets only say whether they are set.',
    ok: {
      status: 200,
      schema: z.strictObject({
        version: z.string(),
        settings: z.array(z.strictObject({ group: z.string(), name: z.string(), value: z.string(), variable: z.string() })),
      }),
      description: 'The settings.',
    },
  });
  api.add({
    method: 'get',
    path: '/collectors',
    role: 'admin',
    summary: 'The collectors sharing the database',
    description:
      'Several collectors on one PostgreSQL (docs/scaling.md): each one with its heartbeat, the agents whose lease it holds and whether it leads. On a single collector `shared` is false and the list empty.',
    ok: {
      status: 200,
      schema: z.strictObject({
        shared: z.boolean(),
        collectors: z.array(
          z.strictObject({
            id: z.string(),
            name: z.string(),
            startedAt: epochMs,
            heartbeatAt: epochMs,
            live: z.boolean().meta({ description: 'its heartbeat is within the lease ttl' }),
            agents: z.number().int().meta({ description: 'agents whose lease it holds now' }),
            leader: z.boolean(),
            self: z.boolean().meta({ description: 'the collector that answered' }),
          }),
        ),
      }),
      description: 'The collectors, by name.',
    },
  });
  api.add({
    method: 'get',
    path: '/roles',
    role: 'viewer',
    summary: 'The roles users may have',
    ok: { status: 200, schema: z.array(z.strictObject({ name: z.enum(USER_ROLES), may: z.string() })), description: 'Least to most.' },
  });
  api.add({
    method: 'get',
    path: '/sessions',
    role: 'self',
    query: listSessionsQuery,
    summary: "The caller's browser sessions",
    ok: { status: 200, schema: z.array(session), description: 'The sessions.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'delete',
    path: '/sessions/:id',
    role: 'self',
    summary: 'End one of the caller’s sessions',
    params: { id: "the session's id" },
    ok: { status: 204, description: 'Ended.' },
  });
  api.add({
    method: 'delete',
    path: '/sessions',
    role: 'self',
    summary: 'Sign out everywhere',
    description: 'But the session making the request, when it is one.',
    ok: { status: 200, schema: z.strictObject({ ended: z.number().int() }), description: 'How many sessions ended.' },
  });
  api.add({
    method: 'get',
    path: '/tokens',
    role: 'self',
    summary: 'API tokens',
    description: "The caller's; `?user=` someone's and `?all=true` everyone's (admins).",
    query: listTokensQuery,
    ok: { status: 200, schema: z.array(token), description: 'The tokens.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'post',
    path: '/tokens',
    role: 'self',
    summary: 'Make an API token',
    description: 'It carries its owner’s role; `expiresAt` or `expiresIn` (`90d`) ends it.',
    body: createTokenDto,
    ok: { status: 201, schema: madeToken, description: 'The token and its view.' },
    errors: [409],
  });
  api.add({
    method: 'delete',
    path: '/tokens/:id',
    role: 'self',
    summary: 'Revoke an API token at once',
    params: TOKEN_ID,
    ok: { status: 200, schema: token, description: 'The token, revoked.' },
  });
  api.add({
    method: 'post',
    path: '/tokens/:id/rotate',
    role: 'self',
    summary: 'Rotate an API token',
    description: 'A new token in its place (same name and owner); the old one stops at once.',
    params: TOKEN_ID,
    ok: { status: 201, schema: madeToken, description: 'The new token and its view.' },
  });
}
