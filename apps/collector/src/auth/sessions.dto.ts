import { z } from 'zod';
import { listQuery } from '../shared/dto.js';

export const SESSION_SORT_KEYS = ['lastSeenAt', 'createdAt'] as const;

/** `GET /api/v1/sessions?sort=&limit=&offset=`: the most recently used first by default. */
export const listSessionsQuery = listQuery(SESSION_SORT_KEYS, '-lastSeenAt');
export type ListSessionsQuery = z.output<typeof listSessionsQuery>;
