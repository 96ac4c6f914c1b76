import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_ISOLATION_LIMITS, formatFieldErrors, issuesToFieldErrors, nagiosCommandsSchema, PLUGIN_NAME } from '#rounds/plugins';
import type { AgentEnv } from './env.js';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:7443 or [::]:7443')
  // Only judge the port when there is one, so "localhost" gets the host:port message alone.
  .refine((v) => !/:\d{1,5}$/.test(v) || Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be 0–65535');

/** Where uncollected results are kept across restarts; relative to the config file's folder. */
export const spoolDirSchema = z
  .string()
  .min(1, 'must name a folder, e.g. /var/lib/rounds/spool')
  .meta({ description: "Folder for results the collector has not taken yet, relative to this file; the agent's user must be able to write it" });

/** npm's rule for a package name: lower case, URL-safe, optionally scoped. */
const NPM_PACKAGE = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** What one custom plugin may use; every field has its default, so `{}` is valid. */
const pluginLimitsSchema = z.strictObject({
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(DEFAULT_ISOLATION_LIMITS.concurrency)
    .meta({ description: 'Runs of this plugin at once, each in a worker thread of its own; more wait, within their deadline' }),
  memoryMb: z
    .number()
    .int()
    .min(16)
    .max(16_384)
    .default(DEFAULT_ISOLATION_LIMITS.memoryMb)
    .meta({ description: 'Heap limit of each of its workers, in MiB; a run that needs more ends UNKNOWN and its worker is replaced' }),
});

/** The agent's YAML config file. Unknown keys are errors: a typo must not be silently ignored. */
export const agentConfigSchema = z
  .strictObject({
    id: z.string().uuid(),
    listen: hostPort.default('0.0.0.0:7443').meta({ description: 'Address the gRPC server binds' }),
    advertise: hostPort.optional().meta({ description: 'host:port the collector dials; printed in the enrolment string' }),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the token (written by `rounds-agent init`)')
      .optional()
      .meta({ description: 'Hash of the bearer token the collector must send; the token itself is never stored' }),
    nextTokenSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of a token (written by a token rotation)')
      .optional()
      .meta({
        description: 'During a token rotation: hash of the new token, accepted beside the current one until the collector first uses it (written by the agent)',
      }),
    siteKeyVerifier: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits derived from the site key (written by `rounds-agent init --site-key-file …`)')
      .optional()
      .meta({
        description:
          'Until a collector claims this agent: what the site key is checked against (derived from the key and this id; the key itself is never stored). Replaced by tokenSha256 when claimed',
      }),
    tls: z.strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
    }),
    checks: z
      .strictObject({
        concurrency: z.number().int().min(1).max(1024).default(16),
        // Bounds against a collector (old, misconfigured or hostile) that would overload this host.
        maxChecks: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .default(1000)
          .meta({ description: 'Most checks this agent accepts in one check set; a larger set is refused' }),
        minIntervalMs: z
          .number()
          .int()
          .min(100)
          .max(3_600_000)
          .default(1000)
          .meta({ description: 'Shortest check interval this agent runs; a check below it is refused' }),
      })
      .default({ concurrency: 16, maxChecks: 1000, minIntervalMs: 1000 }),
    spool: z
      .strictObject({
        maxResults: z.number().int().min(100).default(100_000),
        maxBytes: z
          .number()
          .int()
          .min(65_536)
          .default(64 * 1024 * 1024),
        maxAgeHours: z.number().positive().default(72),
        dir: spoolDirSchema.default('spool'),
      })
      .default({ maxResults: 100_000, maxBytes: 64 * 1024 * 1024, maxAgeHours: 72, dir: 'spool' }),
    plugins: z
      .strictObject({
        dir: z.string().min(1).optional().meta({ description: 'Folder of custom plugins, relative to this file' }),
        packages: z
          .array(z.string().regex(NPM_PACKAGE, 'must be an npm package name, e.g. @acme/rounds-plugin-ups'))
          .default([])
          .meta({ description: 'npm packages of custom plugins, installed in a node_modules folder beside this file or above it' }),
        limits: z
          .record(z.string().regex(PLUGIN_NAME, 'must be the kebab-case name of a custom plugin'), pluginLimitsSchema)
          .default({})
          .meta({
            description: `Per custom plugin (by name): concurrency and memoryMb; a plugin not named here gets ${DEFAULT_ISOLATION_LIMITS.concurrency} and ${DEFAULT_ISOLATION_LIMITS.memoryMb} MiB`,
          }),
        checkWriters: z
          .boolean()
          .default(true)
          .meta({
            description:
              "Refuse plugin files and folders that others than the agent's user and the administrators can write (POSIX modes, Windows access lists). " +
              'false only where the check cannot run (wine, whose icacls is a stub): whoever can write this file can point the agent at any code anyway',
          }),
      })
      .default({ packages: [], limits: {}, checkWriters: true }),
    nagios: z
      .strictObject({
        commands: nagiosCommandsSchema.default({}).meta({ description: 'Allow-list of Nagios plugins checks may run (NRPE style)' }),
      })
      .default({ commands: {} }),
    collect: z
      .strictObject({
        maxResults: z.number().int().min(1).max(50_000).default(5000),
      })
      .default({ maxResults: 5000 }),
  })
  .superRefine((c, ctx) => {
    if (c.tokenSha256 === undefined && c.siteKeyVerifier === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenSha256'],
        message:
          'is missing: run `rounds-agent init` to make a token (or `rounds-agent init --site-key-file <file>` for a collector to claim this agent with the site key), or set ROUNDS_AGENT_TOKEN',
      });
    } else if (c.tokenSha256 !== undefined && c.siteKeyVerifier !== undefined) {
      // The claim replaces one with the other in one write: both at once is a hand edit, and which one rules would be a guess.
      ctx.addIssue({
        code: 'custom',
        path: ['siteKeyVerifier'],
        message:
          'is left beside tokenSha256: this agent has a token, so the site key no longer applies — remove siteKeyVerifier (or tokenSha256, to be claimed again)',
      });
    }
  });

export type AgentConfigFile = z.output<typeof agentConfigSchema>;

export interface AgentConfig extends AgentConfigFile {
  /** The file it was read from (absolute). */
  readonly path: string;
  /** TLS paths resolved against the config file's folder. */
  readonly tlsCertPath: string;
  readonly tlsKeyPath: string;
  /** Custom plugin folder resolved against the config file's folder. */
  readonly pluginDir?: string;
  /** `spool.dir` resolved against the config file's folder. */
  readonly spoolDir: string;
  /** The token is ROUNDS_AGENT_TOKEN's, not the file's: it cannot be rotated from the collector. */
  readonly tokenFromEnv: boolean;
}

export class AgentConfigError extends Error {}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Reads and validates the config file, applies env overrides, and returns a frozen
 * config. Every error names the file and the field, so the agent stops with a
 * message an operator can act on.
 */
export function loadAgentConfig(path: string, env: AgentEnv): AgentConfig {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new AgentConfigError(`cannot read agent config ${abs}: ${(e as Error).message} — create one with \`rounds-agent init --config ${path}\``);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new AgentConfigError(`agent config ${abs} is not valid YAML: ${(e as Error).message}`);
  }
  // Spreading a scalar or list would turn it into fields "0", "1", ... and hide the real mistake.
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new AgentConfigError(`agent config ${abs} must be a YAML mapping of settings (key: value), not a ${Array.isArray(raw) ? 'list' : typeof raw}`);
  }
  const overridden = { ...(raw as Record<string, unknown>) };
  if (env.listen) overridden['listen'] = env.listen;
  if (env.token) {
    overridden['tokenSha256'] = sha256Hex(env.token);
    // A rotation's second token belongs to the file's token, not to this one; a token from the environment means enrolled.
    delete overridden['nextTokenSha256'];
    delete overridden['siteKeyVerifier'];
  }
  const parsed = agentConfigSchema.safeParse(overridden);
  if (!parsed.success) {
    throw new AgentConfigError(`agent config ${abs} is invalid: ${formatFieldErrors(issuesToFieldErrors(parsed.error.issues))}`);
  }
  const dir = dirname(abs);
  return Object.freeze({
    ...parsed.data,
    path: abs,
    tlsCertPath: resolve(dir, parsed.data.tls.cert),
    tlsKeyPath: resolve(dir, parsed.data.tls.key),
    pluginDir: parsed.data.plugins.dir ? resolve(dir, parsed.data.plugins.dir) : undefined,
    spoolDir: resolve(dir, parsed.data.spool.dir),
    tokenFromEnv: Boolean(env.token),
  });
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hostPort.slice(i + 1)) };
}
