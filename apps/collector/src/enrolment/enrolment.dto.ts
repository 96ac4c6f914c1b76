import { z } from 'zod';
import { SITE_KEY_PATTERN, SITE_KEY_RULE } from '#rounds/common';
import { validateWith } from '#rounds/plugins';
import { AGENT_NAME, AGENT_NAME_RULE } from '../inventory/agents.dto.js';
import { enumParam, listQuery, orEmpty } from '../shared/dto.js';
import { tagsSchema, type Tags } from '../shared/tags.js';
import { ENROLMENT_STATES } from './enrolment.entity.js';

/** Most agents one list may hold: a hospital's worth, and a body well within the API's 256 KiB. */
export const MAX_ENROL_LINES = 5000;

/** Where an agent listens when a line gives no port: `rounds-agent init`'s default. */
export const DEFAULT_AGENT_PORT = 7443;

/** One agent of a submitted list, as its line says. */
export interface EnrolLine {
  /** The line number in the text (1 is the first), as a person finds it in an editor. */
  line: number;
  name: string;
  host: string;
  port: number;
  tags: Tags;
}

const FORMAT = 'name,address[,tags] — e.g. pacs-01,10.0.4.7:7443,site=north;department=radiology';
const ADDRESS_RULE = 'must be host:port (pacs-01.hospital.example:7443, 10.0.4.7:7443 or [fd00::7]:7443; the port is 7443 when left out)';
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;
/** The errors a 400 lists at most: the rest are counted. */
const MAX_ERRORS = 50;

/** `host[:port]` or `[v6][:port]`; undefined when it is neither. */
export function parseAddress(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const host = m[1]!;
  const port = m[2] === undefined ? DEFAULT_AGENT_PORT : Number(m[2]);
  const bracketed = text.startsWith('[');
  if (port < 1 || port > 65535 || (bracketed ? !IPV6.test(host) || !host.includes(':') : !HOST.test(host) || host.length > 253)) return undefined;
  return { host, port };
}

/** RFC 4180 records with the line each starts on; quoted fields may hold commas (and quotes, doubled). */
function records(text: string): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let touched = false;
  const endRecord = () => {
    cells.push(cell);
    if (touched || cells.length > 1 || cell.trim() !== '') out.push({ line: start, cells });
    cells = [];
    cell = '';
    touched = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      touched = true;
      cell = '';
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else cell += c;
  }
  endRecord();
  return out;
}

/**
 * The agents of a list, one a line: `name,address[,tags]`. A header line (`name,address,…`),
 * blank lines and lines starting with `#` are skipped; tags are `key=value` pairs separated by `;`.
 * Every line at fault is named with what to write instead; a duplicate name or address is not a
 * fault of the text — the enrolment reports it on its line.
 */
export function parseEnrolCsv(text: string): { ok: true; lines: EnrolLine[] } | { ok: false; errors: string[] } {
  const lines: EnrolLine[] = [];
  const errors: string[] = [];
  const found = records(text.replace(/^\uFEFF/, '')).filter((r) => !r.cells[0]!.trimStart().startsWith('#'));
  found.forEach(({ line, cells }, index) => {
    const [name = '', address = '', tagText = ''] = cells.map((c) => c.trim());
    if (index === 0 && name.toLowerCase() === 'name' && address.toLowerCase() === 'address') return;
    const at = `line ${line}`;
    if (cells.length < 2 || cells.length > 3) {
      errors.push(`${at}: has ${cells.length} field${cells.length === 1 ? '' : 's'}; write ${FORMAT} (quote a field that holds a comma)`);
      return;
    }
    const problems: string[] = [];
    if (!AGENT_NAME.test(name)) problems.push(`name ${JSON.stringify(name)} ${AGENT_NAME_RULE}`);
    const where = parseAddress(address);
    if (!where) problems.push(`address ${JSON.stringify(address)} ${ADDRESS_RULE}`);
    const tags = parseTagCell(tagText);
    if ('error' in tags) problems.push(tags.error);
    if (problems.length > 0 || !where || 'error' in tags) {
      errors.push(`${at}: ${problems.join('; ')}`);
      return;
    }
    lines.push({ line, name, host: where.host, port: where.port, tags: tags.tags });
  });
  if (errors.length > MAX_ERRORS) errors.splice(MAX_ERRORS, errors.length, `… and ${errors.length - MAX_ERRORS} more lines like these`);
  if (errors.length > 0) return { ok: false, errors };
  if (lines.length === 0) return { ok: false, errors: [`has no agents: write one agent a line, ${FORMAT}`] };
  if (lines.length > MAX_ENROL_LINES) return { ok: false, errors: [`has ${lines.length} agents; at most ${MAX_ENROL_LINES} at a time — split the list`] };
  return { ok: true, lines };
}

function parseTagCell(text: string): { tags: Tags } | { error: string } {
  if (text === '') return { tags: {} };
  const tags: Record<string, string> = {};
  for (const pair of text.split(';').map((p) => p.trim())) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) return { error: `tags ${JSON.stringify(text)} must be key=value pairs separated by ";" (site=north;department=radiology)` };
    tags[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const valid = validateWith(tagsSchema, tags);
  return valid.ok ? { tags: valid.value } : { error: valid.errors.map((e) => `tags${e.field ? `.${e.field}` : ''}: ${e.message}`).join('; ') };
}

/** `{csv}`: the list as text — pasted, uploaded or read from a file (`jq -Rs '{csv: .}' agents.csv`). */
export const submitEnrolmentsDto = orEmpty(
  z.strictObject({
    csv: z.string({ error: `must be the list as text, one agent a line: ${FORMAT}` }).transform((text, ctx) => {
      const parsed = parseEnrolCsv(text);
      if (parsed.ok) return parsed.lines;
      for (const message of parsed.errors) ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }),
  }),
);
export type SubmitEnrolmentsDto = z.output<typeof submitEnrolmentsDto>;

/** `{ids}`: the enrolments a person approves, each waiting with the fingerprint they compared. */
export const approveEnrolmentsDto = orEmpty(
  z.strictObject({
    ids: z
      .array(z.string({ error: 'must be an enrolment id' }), { error: 'must be a list of enrolment ids (GET /api/v1/enrolments?state=pending)' })
      .min(1, 'must name at least one enrolment')
      .max(MAX_ENROL_LINES, `at most ${MAX_ENROL_LINES} at a time`),
  }),
);
export type ApproveEnrolmentsDto = z.output<typeof approveEnrolmentsDto>;

/** `GET /enrolments?batch=&state=`. */
export const ENROLMENT_SORT_KEYS = ['submitted', 'name', 'state'] as const;

export const listEnrolmentsQuery = listQuery(ENROLMENT_SORT_KEYS, 'submitted', {
  batch: z.string().uuid('must be the id of a submitted list (the `batch` its answer gave)').optional(),
  state: enumParam(ENROLMENT_STATES),
  name: z.string().max(63).optional(),
});
export type ListEnrolmentsQuery = z.output<typeof listEnrolmentsQuery>;

/** `PUT /site-key {key}`: a site key made elsewhere (agents already installed with it). */
export const setSiteKeyDto = orEmpty(
  z.strictObject({ key: z.string({ error: SITE_KEY_RULE }).regex(SITE_KEY_PATTERN, SITE_KEY_RULE).meta({ 'x-secret': true }) }),
);
export type SetSiteKeyDto = z.output<typeof setSiteKeyDto>;
