import { STATUS_CODES } from 'node:http';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { FieldError } from '#rounds/plugins';

/** RFC 9457's media type for problem details. */
export const PROBLEM_JSON = 'application/problem+json';

/**
 * An API error as RFC 9457 problem details: `type` (about:blank: the status says it all), `title`
 * (the status's phrase), `status`, `detail` (a sentence naming the thing and what to do) and
 * `instance` (the path asked for); `errors` lists the fields at fault (`field` a dotted path into the body or query, as in
 * `config.url` or `1.name`, and `message`). `message` repeats `detail`
 * for clients written before problem details. The OpenAPI document describes every 4xx by it.
 */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  message: z.string(),
});
export type Problem = z.output<typeof problemSchema>;

export function problem(status: number, detail: string, instance?: string, errors?: readonly FieldError[]): Problem {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(instance ? { instance } : {}),
    ...(errors && errors.length > 0 ? { errors: errors.map((e) => ({ field: e.field, message: e.message })) } : {}),
    message: detail,
  };
}

/** Answers with a problem document. */
export function sendProblem(req: Request, res: Response, status: number, detail: string, errors?: readonly FieldError[]): void {
  res
    .status(status)
    .type(PROBLEM_JSON)
    .send(JSON.stringify(problem(status, detail, req.originalUrl.split('?')[0], errors)));
}
