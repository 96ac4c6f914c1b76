import { z } from 'zod';
import { limitParam } from '../shared/dto.js';

/** `GET /checks/:id/results?limit=`. */
export const recentResultsQuery = z.object({ limit: limitParam(10_000, 100) });
export type RecentResultsQuery = z.output<typeof recentResultsQuery>;
