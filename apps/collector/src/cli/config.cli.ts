import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { parseDocument, stringify } from 'yaml';
import { UsageError } from '#rounds/common';
import type { CliConfig } from '../config/env.js';
import type { PlanItem } from '../config-document/config-document.js';
import { ApiProblemError } from './api-client.js';
import { flag, Operator, type CommandArgs } from './operator.js';
import { terminalSafe } from './table.js';

const CONFIG_USAGE = `usage: rounds-collector config export [--with-secrets] [-o <file>]
       rounds-collector config apply <file|-> [--dry-run] [--prune] [--yes]`;

/** `config apply --dry-run` when the plan has changes (as \`terraform plan -detailed-exitcode\`). */
export const EXIT_CHANGES = 2;
/** EX_DATAERR: the document cannot be applied (it does not parse, a secret's variable is unset, the collector refuses it). */
export const EXIT_INVALID = 65;

/** A document that cannot be applied, with every error's path. */
class InvalidDocument extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('\n'));
  }
}

/**
 * `config export|apply`: configuration as code against the running collector's API (admin
 * token). `env` is the environment `{env: NAME}` secrets are read from — the CI job's, handed in
 * by main.ts rather than read here, since which variables a document names is its author's choice.
 */
export async function configCommand(
  config: CliConfig,
  { positionals, values }: CommandArgs,
  print: (line: string) => void,
  env: Readonly<Record<string, string | undefined>>,
  interactive: boolean,
): Promise<number> {
  const [sub, file] = positionals;
  const target = { url: flag(values, 'url'), token: flag(values, 'token'), ca: flag(values, 'ca') };
  const op = new Operator(config, target, 'table', print);
  if (sub === 'export') {
    const secrets = values['with-secrets'] === true;
    const document = await op.call<unknown>('GET', `/config${secrets ? '?secrets=true' : ''}`);
    const text = stringify(document, { lineWidth: 0 });
    const out = flag(values, 'output');
    if (out === undefined) process.stdout.write(text);
    // Secrets inside: only its owner may read the file.
    else await writeFile(out, text, { mode: secrets ? 0o600 : 0o644 });
    return 0;
  }
  if (sub !== 'apply') throw new UsageError(CONFIG_USAGE);
  if (!file) throw new UsageError(`config apply needs the document's file (- for standard input)\n${CONFIG_USAGE}`);
  const prune = values['prune'] === true;
  let document: unknown;
  let plan: PlanItem[];
  try {
    document = resolveSecrets(parseYaml(file, file === '-' ? await readStdin() : await readFile(file, 'utf8')), env);
    plan = await op.call<PlanItem[]>('POST', '/config/plan', { document, prune });
  } catch (e) {
    return invalid(e, print);
  }
  for (const line of planLines(plan)) print(terminalSafe(line));
  if (plan.length === 0) {
    print('nothing to change: the collector already matches the document');
    return 0;
  }
  print(summary(plan));
  if (values['dry-run'] === true) return EXIT_CHANGES;
  if (interactive && values['yes'] !== true && !(await confirm())) {
    print('not applied');
    return 1;
  }
  let result: { plan: PlanItem[]; applied: boolean };
  try {
    result = await op.call<{ plan: PlanItem[]; applied: boolean }>('POST', '/config/apply', { document, prune });
  } catch (e) {
    return invalid(e, print);
  }
  print(result.applied ? `applied: ${summary(result.plan)}` : 'nothing to change: the collector already matches the document');
  return 0;
}

function invalid(e: unknown, print: (line: string) => void): number {
  if (e instanceof InvalidDocument) {
    for (const line of e.errors) print(terminalSafe(line));
  } else if (e instanceof ApiProblemError && e.status === 400) {
    print(terminalSafe(`the collector refused the document (${e.detail}), nothing was changed:`));
    // The API names fields of its body, {document, prune}: here the file is the document.
    for (const err of e.errors) print(terminalSafe(`  ${err.field.replace(/^document\.?/, '') || '(document)'}: ${err.message}`));
  } else throw e;
  return EXIT_INVALID;
}

function parseYaml(name: string, text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new InvalidDocument(doc.errors.map((e) => `${name}: ${e.message}`));
  return doc.toJS() as unknown;
}

/**
 * The document with every `{env: NAME}` replaced by that variable's value; every unset one named
 * with its path in the document, so a pipeline's missing secret is found in one run.
 */
export function resolveSecrets(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  const missing: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}.${i}`));
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v);
    if (entries.length === 1 && entries[0]![0] === 'env' && typeof entries[0]![1] === 'string') {
      const name = entries[0]![1];
      const found = env[name];
      if (found === undefined || found === '')
        missing.push(`${path.slice(1)}: the environment variable ${name} is not set — set it to the secret (a CI secret variable) before config apply`);
      return found;
    }
    return Object.fromEntries(entries.map(([k, item]) => [k, walk(item, `${path}.${k}`)]));
  };
  const resolved = walk(value, '');
  if (missing.length > 0) throw new InvalidDocument(missing);
  return resolved;
}

/** The plan as a diff: `+ create`, `~ update` with each field's from → to, `- delete`. */
export function planLines(plan: readonly PlanItem[]): string[] {
  const sign = { create: '+', update: '~', delete: '-' } as const;
  const show = (v: unknown) => (v === null || v === undefined ? '(none)' : JSON.stringify(v));
  const lines: string[] = [];
  for (const item of plan) {
    lines.push(`${sign[item.action]} ${item.kind} ${item.name}`);
    for (const c of item.changes) lines.push(item.action === 'create' ? `    ${c.path}: ${show(c.to)}` : `    ${c.path}: ${show(c.from)} → ${show(c.to)}`);
  }
  return lines;
}

function summary(plan: readonly PlanItem[]): string {
  const count = (a: PlanItem['action']) => plan.filter((p) => p.action === a).length;
  return `${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function confirm(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question('apply these changes? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}
