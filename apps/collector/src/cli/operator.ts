import { userInfo } from 'node:os';
import { ROUNDS_VERSION, UsageError } from '#rounds/common';
import type { CliConfig } from '../config/env.js';
import { ApiClient, ApiProblemError } from './api-client.js';
import { refusedTokenAdvice, resolveTarget, type TargetFlags } from './target.js';
import { table, terminalJson, terminalSafe } from './table.js';

/** Flags and arguments after the command, as parseArgs gives them. */
export interface CommandArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * What an operator command (`agent`, `check`, `alert`, `silence`, `maintenance`, `channel`) works
 * with: the API of the running collector — so the change is the collector's own, checked and
 * audited as the token's user, from any machine — and the chosen output: `table` for people,
 * `json` (the API's own JSON) for scripts.
 */
export class Operator {
  private client: ApiClient | undefined;
  private caller: { name: string } | undefined;

  constructor(
    private readonly config: CliConfig,
    private readonly flags: TargetFlags,
    readonly output: OutputFormat,
    private readonly print: (line: string) => void,
    readonly now: () => number = Date.now,
  ) {}

  /** From the command line's `--output`, `--url`, `--token`, `--ca`. */
  static from(config: CliConfig, values: CommandArgs['values'], print: (line: string) => void): Operator {
    const output = values['output'] ?? 'table';
    if (typeof output !== 'string' || !(OUTPUT_FORMATS as readonly string[]).includes(output)) {
      throw new UsageError(`--output must be ${OUTPUT_FORMATS.join(' or ')}, got "${String(output)}"`);
    }
    const flag = (key: string) => (typeof values[key] === 'string' ? values[key] : undefined);
    const flags: TargetFlags = { url: flag('url'), token: flag('token'), ca: flag('ca') };
    return new Operator(config, flags, output as OutputFormat, print);
  }

  get json(): boolean {
    return this.output === 'json';
  }

  /**
   * One API call; the answer's body. A refused token is said with where it came from and what to
   * do; with `--output json` a refusal's problem document is printed too, for scripts.
   */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const api = this.api();
    try {
      return (await api.call<T>(method, path, body)).body;
    } catch (e) {
      if (!(e instanceof ApiProblemError)) throw e;
      if (this.json && e.body !== undefined) this.print(terminalJson(e.body));
      if (e.status === 401) {
        throw new Error(
          `the collector at ${api.target.url} refused the API token from ${api.target.from.token}: ${e.detail} — ${refusedTokenAdvice(api.target)}`,
        );
      }
      throw e;
    }
  }

  /** The user the token belongs to: who acknowledges or silences, as the UI records its signed-in user. */
  async me(): Promise<{ name: string }> {
    this.caller ??= await this.call<{ name: string }>('GET', '/me');
    return this.caller;
  }

  /** `--output json`: the value as the API sent it; otherwise the table (or `empty` when there are no rows). */
  show(value: unknown, header: string[], rows: string[][], empty: string): void {
    if (this.json) this.print(terminalJson(value));
    else if (rows.length === 0) this.print(terminalSafe(empty));
    else for (const l of table([header, ...rows])) this.print(terminalSafe(l));
  }

  /** `--output json`: the API's answer; otherwise the sentences. */
  done(value: unknown, ...sentences: (string | undefined)[]): void {
    if (this.json) {
      if (value !== undefined) this.print(terminalJson(value));
      return;
    }
    for (const s of sentences) if (s !== undefined) this.print(terminalSafe(s));
  }

  private api(): ApiClient {
    this.client ??= new ApiClient(resolveTarget(this.flags, this.config), userAgent());
    return this.client;
  }
}

/**
 * What the audit log shows as the change's user agent: this program and the OS user at the
 * keyboard — the token says which Rounds user acted, this says who typed the command (told by
 * the client, so a hint, not a proof).
 */
function userAgent(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return `rounds-collector/${ROUNDS_VERSION} (cli; os user ${user})`;
}

// ---- reading the command line ---------------------------------------------------------------

export function flag(values: CommandArgs['values'], key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function need(values: CommandArgs['values'], key: string, usage: string): string {
  const v = flag(values, key);
  if (v === undefined) throw new UsageError(`missing --${key}\nusage: ${usage}`);
  return v;
}

/** A flag that may be given more than once (`--match a --match b`). */
export function flags(values: CommandArgs['values'], key: string): string[] {
  const v = values[key];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** `--tag site=north --tag modality=CT` as tags; undefined when none is given. */
export function tagsFlag(values: CommandArgs['values']): Record<string, string> | undefined {
  const given = flags(values, 'tag');
  if (given.length === 0) return undefined;
  const tags: Record<string, string> = {};
  for (const t of given) {
    const at = t.indexOf('=');
    if (at <= 0) throw new UsageError(`--tag must be key=value, e.g. --tag site=north — got "${t}"`);
    tags[t.slice(0, at)] = t.slice(at + 1);
  }
  return tags;
}

/** A path segment for an id or a name ("pacs-01/DICOM echo" stays one segment). */
export const seg = (ref: string) => encodeURIComponent(ref);

// ---- showing values -------------------------------------------------------------------------

/** An instant as a person reads it in a terminal: to the second, UTC. */
export function iso(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** How long ago `ms` was: "12s ago", "5m ago", "3h ago", "2d ago"; "never" for none. */
export function ago(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

/** One line of text for a table cell: no line breaks, at most `max` characters. */
export function cell(text: string | null | undefined, max = 120): string {
  const one = terminalSafe((text ?? '').replace(/\s+/g, ' ').trim());
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
