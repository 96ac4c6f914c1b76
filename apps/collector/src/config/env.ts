import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { formatFieldErrors, issuesToFieldErrors } from '#rounds/plugins';
import { MAKE_A_KEY, SECRET_KEY_BYTES } from '../storage/secret-box.js';
import { USER_ROLES, type UserRole } from '../users/user.entity.js';
import { parseDuration } from '../cli/parse-duration.js';

const DAY_MS = 86_400_000;

/** A retention period: a duration like 7d or 2160h; at least a day. */
const retention = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      try {
        const ms = parseDuration(v, 'it');
        if (ms >= DAY_MS) return ms;
        ctx.addIssue({ code: 'custom', message: `must be at least 1d, got "${v}"` });
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(/^it /, '') });
      }
      return z.NEVER;
    });

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** The collector needs its own database on a server; a URL that parses to neither would connect to pg's defaults. */
function namesServerAndDatabase(url: string): boolean {
  if (!POSTGRES_URL.test(url)) return true; // the regex's message says what is wrong
  try {
    const u = new URL(url);
    return u.hostname !== '' && u.pathname.length > 1;
  } catch {
    return false;
  }
}

/** A 32-byte key in base64, decoded; the message says how to make one. */
const secretKeyText = z
  .string()
  .trim()
  .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === SECRET_KEY_BYTES, {
    message: `must be ${SECRET_KEY_BYTES} random bytes in base64 (44 characters) — make one with ${MAKE_A_KEY}`,
  })
  .transform((v) => Buffer.from(v, 'base64'));

/**
 * The only place the collector reads process.env: parsed once at start into a frozen,
 * typed config. Every setting has a documented default (README, "Configuration").
 */
const envSchema = z
  .object({
    ROUNDS_DATA_DIR: z.string().min(1).default('data'),
    ROUNDS_DATABASE_URL: z
      .string()
      .regex(POSTGRES_URL, 'must be a postgres:// URL (leave unset for the embedded SQLite database)')
      .refine(namesServerAndDatabase, 'must name a server and a database, e.g. postgres://rounds:PASSWORD@db.example:5432/rounds')
      .optional(),
    ROUNDS_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    ROUNDS_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8380),
    ROUNDS_POLL_INTERVAL_MS: z.coerce.number().int().min(500).max(3_600_000).default(15_000),
    ROUNDS_POLL_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    ROUNDS_POLL_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
    ROUNDS_POLL_BATCH: z.coerce.number().int().min(1).max(50_000).default(5000),
    ROUNDS_DOWN_AFTER: z.coerce.number().int().min(1).max(100).default(3),
    ROUNDS_MAX_BACKOFF_MS: z.coerce.number().int().min(1000).default(300_000),
    // Several collectors on one PostgreSQL (cluster/): this one's name in logs and pages, and its leases' pace.
    ROUNDS_COLLECTOR_NAME: z
      .string()
      .trim()
      .regex(/^[\x21-\x7e]{1,100}$/, 'must be 1 to 100 printable characters without spaces, e.g. collector-2')
      .optional(),
    ROUNDS_LEASE_RENEW_MS: z.coerce.number().int().min(100).max(600_000).optional(),
    ROUNDS_LEASE_TTL_MS: z.coerce.number().int().min(500).max(3_600_000).optional(),
    ROUNDS_API_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    ROUNDS_API_RATE_LIMIT: z.coerce
      .number({ error: 'must be a whole number of requests a minute (0 turns the limit off)' })
      .int('must be a whole number of requests a minute (0 turns the limit off)')
      .min(0, 'must be a whole number of requests a minute (0 turns the limit off)')
      .max(1_000_000, 'must be at most 1000000 requests a minute')
      .default(600),
    ROUNDS_LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug']).default('log'),
    ROUNDS_PUBLIC_URL: z
      .url({ protocol: /^https?$/, error: 'must be the http:// or https:// address people open the UI at, e.g. https://rounds.hospital.example' })
      .optional(),
    ROUNDS_NOTIFY_RETRY_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    ROUNDS_NOTIFY_MAX_RETRY_MS: z.coerce.number().int().min(100).max(86_400_000).default(3_600_000),
    ROUNDS_STORAGE_ALERT_AFTER_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    ROUNDS_METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    ROUNDS_METRICS_USER: z
      .string()
      .min(1)
      .regex(/^[^:]+$/, 'must not contain ":" (HTTP basic auth)')
      .optional(),
    ROUNDS_METRICS_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    ROUNDS_MAX_CHECKS_PER_AGENT: z.coerce.number().int().min(1).max(100_000).default(1000),
    // Not below 100 ms: the shortest timeout a check may have, and a timeout never exceeds its interval.
    ROUNDS_MIN_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000),
    ROUNDS_SECRET_KEY: secretKeyText.optional(),
    ROUNDS_SECRET_KEY_FILE: z.string().min(1).optional(),
    // Only `secrets rotate-key` reads it: the key that replaces ROUNDS_SECRET_KEY.
    ROUNDS_SECRET_KEY_NEW: secretKeyText.optional(),
    ROUNDS_TLS_CERT: z.string().min(1).optional(),
    ROUNDS_TLS_KEY: z.string().min(1).optional(),
    ROUNDS_TLS_SELF_SIGNED: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
    ROUNDS_TLS_NAMES: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      )
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9.:*-]{1,253}$/, 'must be host names or IP addresses, comma-separated')))
      .optional(),
    ROUNDS_RETENTION_RAW: retention('7d'),
    ROUNDS_RETENTION_1M: retention('90d'),
    ROUNDS_RETENTION_1H: retention('1830d'),
    ROUNDS_2FA_REQUIRED_ROLES: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((r) => r.trim().toLowerCase())
          .filter((r) => r !== ''),
      )
      .pipe(z.array(z.enum(USER_ROLES, { error: (i) => `"${String(i.input)}" is not a role: list roles from ${USER_ROLES.join(', ')}, comma-separated` })))
      .optional(),
  })
  .superRefine((e, ctx) => {
    const { renewMs, ttlMs } = leaseTiming(e);
    if (ttlMs <= renewMs) {
      // A lease renewed no sooner than it expires lapses between rounds: another collector would take the agent over each time.
      ctx.addIssue({
        code: 'custom',
        path: [e.ROUNDS_LEASE_TTL_MS === undefined ? 'ROUNDS_LEASE_RENEW_MS' : 'ROUNDS_LEASE_TTL_MS'],
        message: `the lease ttl (${ttlMs} ms) must be longer than the renewal interval (${renewMs} ms)`,
      });
    }
    if (e.ROUNDS_SECRET_KEY && e.ROUNDS_SECRET_KEY_FILE) {
      ctx.addIssue({ code: 'custom', path: ['ROUNDS_SECRET_KEY_FILE'], message: 'set ROUNDS_SECRET_KEY or ROUNDS_SECRET_KEY_FILE, not both' });
    }
    // PostgreSQL lives elsewhere and is backed up elsewhere; a key made silently in a local folder
    // (perhaps a container's throw-away one) would be lost with it and the secrets with the key.
    if (e.ROUNDS_DATABASE_URL && POSTGRES_URL.test(e.ROUNDS_DATABASE_URL) && !e.ROUNDS_SECRET_KEY && !e.ROUNDS_SECRET_KEY_FILE) {
      ctx.addIssue({
        code: 'custom',
        path: ['ROUNDS_SECRET_KEY'],
        message:
          `is required with ROUNDS_DATABASE_URL (it encrypts agent tokens and channel secrets): set ROUNDS_SECRET_KEY to a key made with ${MAKE_A_KEY}, ` +
          'or ROUNDS_SECRET_KEY_FILE to a file on persistent storage (created on first start); back the key up apart from the database',
      });
    }
    // Each tier is made from the one before it: a shorter-lived tier after a longer-lived one would leave holes.
    if (e.ROUNDS_RETENTION_1M < e.ROUNDS_RETENTION_RAW) {
      ctx.addIssue({ code: 'custom', path: ['ROUNDS_RETENTION_1M'], message: 'must be at least ROUNDS_RETENTION_RAW: minute buckets outlive raw results' });
    }
    if (e.ROUNDS_RETENTION_1H < e.ROUNDS_RETENTION_1M) {
      ctx.addIssue({ code: 'custom', path: ['ROUNDS_RETENTION_1H'], message: 'must be at least ROUNDS_RETENTION_1M: hour buckets outlive minute buckets' });
    }
    if ((e.ROUNDS_TLS_CERT === undefined) !== (e.ROUNDS_TLS_KEY === undefined)) {
      const missing = e.ROUNDS_TLS_CERT === undefined ? 'ROUNDS_TLS_CERT' : 'ROUNDS_TLS_KEY';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'set ROUNDS_TLS_CERT and ROUNDS_TLS_KEY together (PEM files of the certificate and its key)' });
    }
    if (e.ROUNDS_TLS_CERT !== undefined && e.ROUNDS_TLS_SELF_SIGNED === 'true') {
      ctx.addIssue({
        code: 'custom',
        path: ['ROUNDS_TLS_SELF_SIGNED'],
        message: 'set ROUNDS_TLS_SELF_SIGNED=true or ROUNDS_TLS_CERT/ROUNDS_TLS_KEY, not both (your own certificate or one made here)',
      });
    }
    if ((e.ROUNDS_METRICS_USER === undefined) !== (e.ROUNDS_METRICS_PASSWORD === undefined)) {
      const missing = e.ROUNDS_METRICS_USER === undefined ? 'ROUNDS_METRICS_USER' : 'ROUNDS_METRICS_PASSWORD';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'set ROUNDS_METRICS_USER and ROUNDS_METRICS_PASSWORD together (HTTP basic auth on /metrics)' });
    }
  });

/**
 * Lease timing (cluster/): renewed every min(5 s, half a poll interval), valid one poll interval. A
 * dead collector's agents are free once its last renewal expires (≤ ttl) and taken on the next
 * round of a live one (≤ renewMs later): within ttl + renewMs ≤ 1.5 poll intervals by default.
 */
function leaseTiming(e: { ROUNDS_POLL_INTERVAL_MS: number; ROUNDS_LEASE_RENEW_MS?: number | undefined; ROUNDS_LEASE_TTL_MS?: number | undefined }): {
  renewMs: number;
  ttlMs: number;
} {
  return {
    renewMs: e.ROUNDS_LEASE_RENEW_MS ?? Math.min(5000, Math.floor(e.ROUNDS_POLL_INTERVAL_MS / 2)),
    ttlMs: e.ROUNDS_LEASE_TTL_MS ?? e.ROUNDS_POLL_INTERVAL_MS,
  };
}

export interface CollectorConfig {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly pollIntervalMs: number;
  readonly pollTimeoutMs: number;
  readonly pollConcurrency: number;
  readonly pollBatch: number;
  readonly downAfter: number;
  readonly maxBackoffMs: number;
  /** This collector's name among several on one PostgreSQL (ROUNDS_COLLECTOR_NAME, else the host name). */
  readonly collectorName: string;
  /** Leases (PostgreSQL): renewed every `renewMs`, each valid `ttlMs` by its holder's clock. */
  readonly lease: { readonly renewMs: number; readonly ttlMs: number };
  /** When set, the API token from the environment instead of the generated one. */
  readonly apiToken?: string;
  /**
   * Requests a minute the API answers per API token (per session for a browser, per client
   * address for a call without either); 0: no limit. Sign-in failures have their own, stricter limit.
   */
  readonly apiRateLimit: number;
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug';
  /** Address of the UI as people reach it (behind a proxy, too): links in notifications. Unset: no links. */
  readonly publicUrl?: string;
  /** First wait before a failed notification is tried again; it doubles per failed attempt up to `notifyMaxRetryMs`. */
  readonly notifyRetryMs: number;
  readonly notifyMaxRetryMs: number;
  /** How long storing must fail before the notification channels are told (past the outbox, which lives in the database). */
  readonly storageAlertAfterMs: number;
  /** Credentials /metrics accepts; both unset: /metrics is open (like the status page, keep it on loopback). */
  readonly metricsAuth: { readonly token?: string; readonly basic?: { readonly user: string; readonly password: string } };
  /** Most checks one agent may have (enabled or not); a create beyond it is refused. */
  readonly maxChecksPerAgent: number;
  /** Shortest interval a check may be saved with. */
  readonly minCheckIntervalMs: number;
  /** ROUNDS_SECRET_KEY, decoded: seals agent tokens and channel secrets instead of a key file. */
  readonly secretKey?: Buffer;
  /** ROUNDS_SECRET_KEY_FILE: the key file when not `secret.key` in the data dir. */
  readonly secretKeyFile?: string;
  /** ROUNDS_SECRET_KEY_NEW: what `secrets rotate-key` re-encrypts to when the key comes from the environment. */
  readonly newSecretKey?: Buffer;
  /**
   * HTTPS for the UI and API: the operator's certificate and key (PEM files), or a self-signed
   * certificate made on first start in `<data dir>/tls/` for `names` (besides the machine's own).
   * Unset: plain HTTP (on loopback by default).
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | { readonly selfSigned: { readonly names: readonly string[] } };
  /** How long raw results, 1-minute and 1-hour buckets are kept (ms). */
  readonly retention: { readonly rawMs: number; readonly minuteMs: number; readonly hourMs: number };
  /** Roles whose users must set up two-factor sign-in (enrolment is forced at their next sign-in); unset: nobody is forced. */
  readonly twoFactorRequiredRoles?: readonly UserRole[];
}

export function readCollectorConfig(env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  // A blank variable (`ROUNDS_HTTP_PORT=` in a compose file) means unset: coerced, it would be port 0.
  const known = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('ROUNDS_') && k in envSchema.shape && v !== undefined && v.trim() !== ''),
  );
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    throw new Error(`collector settings are invalid: ${formatFieldErrors(issuesToFieldErrors(parsed.error.issues))}`);
  }
  const e = parsed.data;
  return Object.freeze({
    dataDir: resolve(e.ROUNDS_DATA_DIR),
    databaseUrl: e.ROUNDS_DATABASE_URL,
    httpHost: e.ROUNDS_HTTP_HOST,
    httpPort: e.ROUNDS_HTTP_PORT,
    pollIntervalMs: e.ROUNDS_POLL_INTERVAL_MS,
    pollTimeoutMs: e.ROUNDS_POLL_TIMEOUT_MS,
    pollConcurrency: e.ROUNDS_POLL_CONCURRENCY,
    pollBatch: e.ROUNDS_POLL_BATCH,
    downAfter: e.ROUNDS_DOWN_AFTER,
    maxBackoffMs: e.ROUNDS_MAX_BACKOFF_MS,
    collectorName: e.ROUNDS_COLLECTOR_NAME ?? hostname(),
    lease: Object.freeze(leaseTiming(e)),
    apiToken: e.ROUNDS_API_TOKEN,
    apiRateLimit: e.ROUNDS_API_RATE_LIMIT,
    logLevel: e.ROUNDS_LOG_LEVEL,
    notifyRetryMs: e.ROUNDS_NOTIFY_RETRY_MS,
    notifyMaxRetryMs: Math.max(e.ROUNDS_NOTIFY_MAX_RETRY_MS, e.ROUNDS_NOTIFY_RETRY_MS),
    storageAlertAfterMs: e.ROUNDS_STORAGE_ALERT_AFTER_MS,
    ...(e.ROUNDS_PUBLIC_URL ? { publicUrl: e.ROUNDS_PUBLIC_URL.replace(/\/+$/, '') } : {}),
    metricsAuth: Object.freeze({
      ...(e.ROUNDS_METRICS_TOKEN ? { token: e.ROUNDS_METRICS_TOKEN } : {}),
      ...(e.ROUNDS_METRICS_USER && e.ROUNDS_METRICS_PASSWORD
        ? { basic: Object.freeze({ user: e.ROUNDS_METRICS_USER, password: e.ROUNDS_METRICS_PASSWORD }) }
        : {}),
    }),
    maxChecksPerAgent: e.ROUNDS_MAX_CHECKS_PER_AGENT,
    minCheckIntervalMs: e.ROUNDS_MIN_CHECK_INTERVAL_MS,
    ...(e.ROUNDS_SECRET_KEY ? { secretKey: e.ROUNDS_SECRET_KEY } : {}),
    ...(e.ROUNDS_SECRET_KEY_FILE ? { secretKeyFile: resolve(e.ROUNDS_SECRET_KEY_FILE) } : {}),
    ...(e.ROUNDS_SECRET_KEY_NEW ? { newSecretKey: e.ROUNDS_SECRET_KEY_NEW } : {}),
    retention: Object.freeze({ rawMs: e.ROUNDS_RETENTION_RAW, minuteMs: e.ROUNDS_RETENTION_1M, hourMs: e.ROUNDS_RETENTION_1H }),
    ...(e.ROUNDS_TLS_CERT && e.ROUNDS_TLS_KEY
      ? { tls: Object.freeze({ certFile: resolve(e.ROUNDS_TLS_CERT), keyFile: resolve(e.ROUNDS_TLS_KEY) }) }
      : e.ROUNDS_TLS_SELF_SIGNED === 'true'
        ? { tls: Object.freeze({ selfSigned: Object.freeze({ names: Object.freeze(e.ROUNDS_TLS_NAMES ?? []) }) }) }
        : {}),
    ...(e.ROUNDS_2FA_REQUIRED_ROLES ? { twoFactorRequiredRoles: Object.freeze([...new Set(e.ROUNDS_2FA_REQUIRED_ROLES)]) } : {}),
  });
}

/**
 * What the operator commands (`agent`, `check`, `alert`, … over the API) read from the
 * environment: where the collector is and the API token, or the data folder whose
 * `cli-credentials.json` says both. Apart from the collector's settings, so that a machine that
 * only talks to a collector needs none of them (and a bad one of them does not stop it).
 */
const cliEnvSchema = z.object({
  ROUNDS_DATA_DIR: z.string().min(1).default('data'),
  ROUNDS_URL: z
    .url({ protocol: /^https?$/, error: "must be the collector's http:// or https:// address, e.g. https://rounds.hospital.example:8380" })
    .optional(),
  ROUNDS_TOKEN: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]+$/, 'must be an API token (printable characters, no spaces)')
    .optional(),
  ROUNDS_CA: z.string().min(1).optional(),
});

export interface CliConfig {
  /** Where the collector on this machine writes `cli-credentials.json`. */
  readonly dataDir: string;
  /** ROUNDS_URL: the collector to talk to. */
  readonly url?: string;
  /** ROUNDS_TOKEN: an API token of the user the commands act as. */
  readonly token?: string;
  /** ROUNDS_CA: a PEM file of the certificate (or CA) to trust for an https:// collector, instead of the system's CAs. */
  readonly caFile?: string;
}

export function readCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const known = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('ROUNDS_') && k in cliEnvSchema.shape && v !== undefined && v.trim() !== ''),
  );
  const parsed = cliEnvSchema.safeParse(known);
  if (!parsed.success) throw new Error(`command-line settings are invalid: ${formatFieldErrors(issuesToFieldErrors(parsed.error.issues))}`);
  const e = parsed.data;
  return Object.freeze({
    dataDir: resolve(e.ROUNDS_DATA_DIR),
    ...(e.ROUNDS_URL ? { url: e.ROUNDS_URL } : {}),
    ...(e.ROUNDS_TOKEN ? { token: e.ROUNDS_TOKEN } : {}),
    ...(e.ROUNDS_CA ? { caFile: resolve(e.ROUNDS_CA) } : {}),
  });
}
