import { z } from 'zod';
import { enumParam, listQuery, orEmpty } from '../shared/dto.js';
import { durationField } from '#rounds/common';

/**
 * `POST /api/v1/tokens`: a name, and optionally when it expires — `expiresAt` (an ISO time or
 * epoch ms) or `expiresIn` (`90d`, `12h`, or milliseconds). The service judges the name and that it is in the future.
 */
export const createTokenDto = orEmpty(
  z
    .strictObject({
      name: z.string({ error: 'is required: say what uses the token, e.g. grafana' }).max(100, 'must be at most 100 characters'),
      expiresAt: z
        .union([z.number().int().positive(), z.iso.datetime({ offset: true }).transform((v) => Date.parse(v))], {
          error: 'must be an ISO time like 2027-03-01T00:00:00Z or epoch milliseconds',
        })
        .optional(),
      // Like every duration of the API: 90d, 12h, or milliseconds.
      expiresIn: durationField({ min: 1000 }).optional(),
    })
    .refine((t) => t.expiresAt === undefined || t.expiresIn === undefined, { message: 'send expiresAt or expiresIn, not both', path: ['expiresIn'] }),
);
export type CreateTokenDto = z.output<typeof createTokenDto>;

export const TOKEN_SORT_KEYS = ['name', 'createdAt', 'lastUsedAt', 'expiresAt'] as const;

/** `GET /api/v1/tokens?user=&all=&state=&name=&sort=&limit=&offset=`: whose tokens (admins only may ask for others'), newest first by default. */
export const listTokensQuery = listQuery(TOKEN_SORT_KEYS, '-createdAt', {
  user: z.string().min(1).max(64).optional(),
  all: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  state: enumParam(['active', 'expired', 'revoked']),
  name: z.string().max(100).optional(),
});
export type ListTokensQuery = z.output<typeof listTokensQuery>;
