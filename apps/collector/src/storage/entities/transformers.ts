import type { ValueTransformer } from 'typeorm';

/**
 * `bigint` columns come back as numbers from better-sqlite3 but as strings from
 * pg (int8 can exceed 2^53). Everything we keep in them — epoch milliseconds,
 * spool sequence numbers, counters — stays far below 2^53, so a JS number is safe.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null | undefined) => (value === null || value === undefined ? value : Number(value)),
};
