import type { Response } from 'express';

/** A list's page as the answer, with how many items matched in all in `X-Total-Count` (the header every list of the API sends). */
export function listAnswer<T>(res: Response, list: { total: number; page: T[] }): T[] {
  res.setHeader('X-Total-Count', String(list.total));
  return list.page;
}
