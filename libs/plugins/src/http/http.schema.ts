import { z } from 'zod';
import { secret, thresholdRange } from '../schema.js';
import { certDayFields, regexField } from '../shared/net-common.js';
import { certKeyPairIssue, setTlsFileFields, tlsFileFields } from '../shared/tls-files.js';

/** A set of HTTP status codes as written ("200-399", "200,204,301-302"), parsed once. */
export interface StatusSet {
  readonly text: string;
  readonly ranges: readonly (readonly [number, number])[];
}

export function statusInSet(set: StatusSet, code: number): boolean {
  return set.ranges.some(([lo, hi]) => code >= lo && code <= hi);
}

/** Parses a status set; returns a message saying what is wrong instead of throwing. */
export function parseStatusSet(input: string | number): StatusSet | string {
  const text = String(input).replace(/\s+/g, '');
  const help = 'write codes 100-599 and ranges separated by commas, e.g. "200-399" or "200,204,301-302"';
  if (text === '') return `empty status set: ${help}`;
  const ranges: [number, number][] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599) return `"${part}" is not a status code or range: ${help}`;
    if (lo > hi) return `"${part}" runs backwards: write the lower code first, e.g. "${hi}-${lo}"`;
    ranges.push([lo, hi]);
  }
  return { text: String(input).trim(), ranges };
}

/** One step of a JSON path: an object key or an array index. */
export type JsonPathSegment = string | number;

export interface JsonPath {
  readonly text: string;
  readonly segments: readonly JsonPathSegment[];
}

// Deliberately tiny: `$`, `.key`, `[0]`, `['key']` / `["key"]`. No wildcards or filters, so a
// path names exactly one value and a failure can say which one was missing.
const SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[(?:'([^']*)'|"([^"]*)")\])/;

export function parseJsonPath(text: string): JsonPath | string {
  const help = 'write it like $.status, $.items[0].name or $["content-type"]';
  if (!text.startsWith('$')) return `"${text}" is not a JSON path: it must start with $ (${help})`;
  const segments: JsonPathSegment[] = [];
  let rest = text.slice(1);
  while (rest !== '') {
    const m = SEGMENT.exec(rest);
    if (!m) return `"${text}" is not a JSON path: cannot read "${rest}" (${help})`;
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else segments.push((m[3] ?? m[4]) as string);
    rest = rest.slice(m[0].length);
  }
  return { text, segments };
}

/** Follows a path through parsed JSON; `found: false` when any step is missing. */
export function evaluateJsonPath(root: unknown, path: JsonPath): { found: true; value: unknown } | { found: false } {
  let current: unknown = root;
  for (const segment of path.segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) return { found: false };
      current = current[segment];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, segment)) {
        return { found: false };
      }
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return { found: true, value: current };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const url = z
  .string()
  .meta({ description: 'Absolute http:// or https:// URL to request' })
  .superRefine((text, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a URL: write it in full, e.g. https://pacs.example.org/dicom-web/studies` });
      return;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `scheme "${parsed.protocol}" is not supported: use http:// or https://` });
    } else if (parsed.username || parsed.password) {
      ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password: use basicAuth, whose password is kept secret' });
    }
  });

const headers = z
  .record(z.string(), z.string())
  .default({})
  .meta({ description: 'Request headers to send, e.g. {Accept: application/dicom+json}; a Host header tests a virtual host' })
  .superRefine((value, ctx) => {
    for (const [name, v] of Object.entries(value)) {
      if (!HEADER_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a valid HTTP header name` });
      } else if (/[\r\n\0]/.test(v)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'a header value cannot contain line breaks' });
      }
    }
  });

const jsonAssertion = z
  .strictObject({
    path: z
      .string()
      .meta({ description: 'JSON path into the body, e.g. $.status or $.items[0].name' })
      .transform((text, ctx): JsonPath => {
        const parsed = parseJsonPath(text);
        if (typeof parsed === 'string') {
          ctx.addIssue({ code: 'custom', message: parsed });
          return z.NEVER;
        }
        return parsed;
      }),
    equals: z
      .union([z.string(), z.number(), z.boolean(), z.null()])
      .optional()
      .meta({ description: 'The value expected at the path (compared strictly: "1" is not 1); omit to only test existence' }),
    exists: z.boolean().default(true).meta({ description: 'false: the path must be absent' }),
  })
  .superRefine((a, ctx) => {
    if (a.exists === false && a.equals !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['equals'], message: 'cannot expect a value at a path that must not exist (remove equals or exists: false)' });
    }
  });

export const httpConfigSchema = z
  .strictObject({
    url,
    method: z.enum(METHODS).default('GET').meta({ description: 'HTTP method' }),
    headers,
    body: z.string().optional().meta({ description: 'Request body, sent as given (set Content-Type in headers)' }),
    expectedStatus: z
      .union([z.string(), z.number().int()])
      .default('200-399')
      .meta({ description: 'Status codes that mean the service is up, e.g. "200-399" or "200,204,301-302"; "200-499" when a 401 is alive' })
      .transform((value, ctx): StatusSet => {
        const parsed = parseStatusSet(value);
        if (typeof parsed === 'string') {
          ctx.addIssue({ code: 'custom', message: parsed });
          return z.NEVER;
        }
        return parsed;
      }),
    bodyContains: z.string().min(1).optional().meta({ description: 'Text the body must contain (case-sensitive)' }),
    bodyMatches: regexField('Pattern the body must match').optional(),
    json: z.array(jsonAssertion).default([]).meta({ description: 'Assertions on the body parsed as JSON, e.g. [{path: $.status, equals: UP}]' }),
    latencyWarning: thresholdRange('WARNING/threshold when the total time in seconds is outside this range').optional(),
    latencyCritical: thresholdRange('CRITICAL/threshold when the total time in seconds is outside this range').optional(),
    followRedirects: z.boolean().default(true).meta({ description: 'Follow 3xx responses with a Location header' }),
    maxRedirects: z.number().int().min(0).max(20).default(5).meta({ description: 'Most redirects to follow before giving up (CRITICAL/unexpected_response)' }),
    tlsVerify: z.boolean().default(true).meta({ description: 'Verify the server certificate and host name (https only)' }),
    ...tlsFileFields(),
    ...certDayFields(),
    basicAuth: z
      .strictObject({
        username: z.string().min(1).meta({ description: 'User name' }),
        password: secret('Password (secret)'),
      })
      .optional()
      .meta({ description: 'HTTP basic authentication' }),
    bearerToken: secret('Sent as "Authorization: Bearer <token>" (secret)').optional(),
    maxBodyBytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024)
      .meta({ description: 'Read at most this many body bytes; assertions see only these and the summary says the body was truncated' }),
  })
  .superRefine((c, ctx) => {
    if (c.basicAuth !== undefined && c.bearerToken !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['bearerToken'], message: 'set either basicAuth or bearerToken, not both' });
    }
    const authHeader = Object.keys(c.headers ?? {}).find((h) => h.toLowerCase() === 'authorization');
    if (authHeader && (c.basicAuth !== undefined || c.bearerToken !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['headers', authHeader],
        message: 'an Authorization header conflicts with basicAuth/bearerToken: keep credentials in those (they are secret)',
      });
    }
    if (typeof c.certCriticalDays === 'number' && typeof c.certWarningDays === 'number' && c.certCriticalDays > c.certWarningDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['certCriticalDays'],
        message: `must not be more than certWarningDays (${c.certWarningDays}): critical comes closer to expiry than warning`,
      });
    }
    const pair = certKeyPairIssue(c);
    if (pair) ctx.addIssue({ code: 'custom', ...pair });
    if (!/^https:/i.test(c.url)) {
      for (const field of setTlsFileFields(c)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} is used only for https:// URLs: use https or remove it` });
      }
    }
    if (c.method === 'HEAD' && (c.bodyContains !== undefined || c.bodyMatches !== undefined || (c.json?.length ?? 0) > 0)) {
      ctx.addIssue({ code: 'custom', path: ['method'], message: 'a HEAD response has no body: use GET for body assertions' });
    }
  });

export type HttpConfig = z.output<typeof httpConfigSchema>;
export type HttpConfigInput = z.input<typeof httpConfigSchema>;
