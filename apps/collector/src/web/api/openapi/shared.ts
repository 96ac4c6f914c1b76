import { z } from 'zod';
import { CHECK_STATUSES } from '#rounds/common';

/** Epoch milliseconds, as every time in the API is. */
export const epochMs = z.number().int().meta({ description: 'epoch milliseconds' });
export const tags = z.record(z.string(), z.string()).meta({ description: 'tag key → value' });
export const checkStatus = z.enum(CHECK_STATUSES);
/** A stored metric as results carry it. */
export const metric = z.strictObject({ name: z.string(), value: z.number(), unit: z.string(), labels: z.record(z.string(), z.string()).optional() });
/** Where `X-Total-Count` is sent: lists that page with `?limit=&offset=`. */
export const TOTAL_COUNT = { 'X-Total-Count': 'how many there are in all, before paging' };
