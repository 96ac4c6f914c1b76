import { z } from 'zod';
import type { FieldError } from '#rounds/plugins';
import { findCycle, nodeKey, type Dependencies, type DependencyRef } from '../alerting/engine.js';
import { resolveCheckRef } from './check-ref.js';

/**
 * `dependsOn` as the API, the form and the views write it: one string per parent,
 * `check:<agent>/<check>` (or `check:<name>` when the name is unique, or `check:<id>`) and
 * `agent:<name or id>`. A prefixed string rather than `{check: …}` objects because it is the
 * same text in JSON, in the form's one-per-line field and in a config file, and because a
 * check and an agent may share a name: the prefix says which is meant.
 */
export const dependsOnField = z
  .array(z.string().regex(/^(check|agent):\S/, 'must be "check:<agent>/<check>" or "agent:<agent>" (names or ids)'), {
    error: 'must be a list like ["check:pacs-01/DICOM port", "agent:router-01"]',
  })
  .max(50, 'at most 50 parents');

interface Named {
  id: string;
  name: string;
  dependsOnJson: string;
}
interface NamedCheck extends Named {
  agentId: string;
}

/** The checks and agents that parents are looked up in (the read model's, or the database's for the CLI). */
export interface Inventory {
  checks: readonly NamedCheck[];
  agents: readonly Named[];
}

/** The stored column: `[{kind, id}]`; a column that is not a list reads as none. */
export function parseDependsOn(json: string | null | undefined): DependencyRef[] {
  try {
    const parsed: unknown = JSON.parse(json ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return (parsed as Partial<DependencyRef>[]).filter((r): r is DependencyRef => (r.kind === 'check' || r.kind === 'agent') && typeof r.id === 'string');
  } catch {
    return [];
  }
}

export function dependsOnText(refs: readonly DependencyRef[]): string {
  return JSON.stringify(refs.map(({ kind, id }) => ({ kind, id })));
}

/** Every check's and agent's stored parents, keyed as the alert engine wants them. */
export function dependenciesOf(inventory: Inventory): Dependencies {
  const out = new Map<string, DependencyRef[]>();
  for (const c of inventory.checks) {
    const refs = parseDependsOn(c.dependsOnJson);
    if (refs.length) out.set(nodeKey({ kind: 'check', id: c.id }), refs);
  }
  for (const a of inventory.agents) {
    const refs = parseDependsOn(a.dependsOnJson);
    if (refs.length) out.set(nodeKey({ kind: 'agent', id: a.id }), refs);
  }
  return out;
}

/** Checks and agents by id: what naming a parent needs (the read model has it without a scan). */
export interface Lookup {
  check(id: string): NamedCheck | undefined;
  agent(id: string): Named | undefined;
}

export function lookupOf(inventory: Inventory): Lookup {
  const checks = new Map(inventory.checks.map((c) => [c.id, c]));
  const agents = new Map(inventory.agents.map((a) => [a.id, a]));
  return { check: (id) => checks.get(id), agent: (id) => agents.get(id) };
}

/** Names parents (`check:pacs-01/DICOM port`, `agent:router-01`); parents deleted since are left out. */
export function dependencyNames(refs: readonly DependencyRef[], lookup: Lookup): string[] {
  return refs.flatMap((ref) => {
    const name = nameOf(ref, lookup);
    return name === null ? [] : [name];
  });
}

function nameOf(ref: DependencyRef, lookup: Lookup): string | null {
  if (ref.kind === 'agent') {
    const agent = lookup.agent(ref.id);
    return agent ? `agent:${agent.name}` : null;
  }
  const check = lookup.check(ref.id);
  if (!check) return null;
  return `check:${lookup.agent(check.agentId)?.name ?? check.agentId}/${check.name}`;
}

/**
 * Resolves `dependsOn` to ids, every unknown or ambiguous parent an error on `dependsOn.<i>`,
 * and refuses a list that closes a cycle through `node` (`node` is undefined for a check not
 * saved yet: nothing depends on it, so it cannot close one).
 */
export function resolveDependsOn(
  refs: readonly string[],
  inventory: Inventory,
  node?: { ref: DependencyRef; agentId: string | null },
): { parents: DependencyRef[]; errors: FieldError[] } {
  const parents: DependencyRef[] = [];
  const errors: FieldError[] = [];
  refs.forEach((text, i) => {
    const colon = text.indexOf(':');
    const kind = text.slice(0, colon);
    const ref = text.slice(colon + 1);
    try {
      const id = kind === 'agent' ? agentRef(ref, inventory) : resolveCheckRef(ref, inventory.checks, inventory.agents).id;
      if (!parents.some((p) => p.kind === kind && p.id === id)) parents.push({ kind: kind as DependencyRef['kind'], id });
    } catch (e) {
      errors.push({ field: `dependsOn.${i}`, message: (e as Error).message });
    }
  });
  if (errors.length === 0 && node) {
    const cycle = cycleThrough(inventory, node.ref, node.agentId, parents);
    if (cycle) errors.push({ field: 'dependsOn', message: `these parents would close a dependency cycle: ${cycle} — remove one of its links` });
  }
  return { parents, errors };
}

function agentRef(ref: string, inventory: Inventory): string {
  const agent = inventory.agents.find((a) => a.id === ref) ?? inventory.agents.find((a) => a.name === ref);
  if (!agent) throw new Error(`no agent with id or name "${ref}" — GET /api/v1/agents lists them`);
  return agent.id;
}

/** The cycle the new parents of `node` would close, in names (`check:a → check:b → check:a`), or null. */
function cycleThrough(inventory: Inventory, node: DependencyRef, agentId: string | null, parents: readonly DependencyRef[]): string | null {
  const explicit = dependenciesOf(inventory) as Map<string, readonly DependencyRef[]>;
  explicit.set(nodeKey(node), parents);
  const agentOf = new Map(inventory.checks.map((c) => [nodeKey({ kind: 'check', id: c.id }), c.agentId]));
  if (node.kind === 'check' && agentId !== null) agentOf.set(nodeKey(node), agentId);
  const edges = (key: string): string[] => {
    const out = (explicit.get(key) ?? []).map(nodeKey);
    const agent = agentOf.get(key);
    // A check hangs from its agent (unreachable agent, silent checks): an agent that depends on its own check loops.
    if (agent !== undefined) out.push(nodeKey({ kind: 'agent', id: agent }));
    return out;
  };
  const cycle = findCycle([nodeKey(node)], edges);
  if (!cycle) return null;
  const lookup = lookupOf(inventory);
  return cycle
    .map((key) => {
      const colon = key.indexOf(':');
      const ref = { kind: key.slice(0, colon) as DependencyRef['kind'], id: key.slice(colon + 1) };
      return nameOf(ref, lookup) ?? key;
    })
    .join(' → ');
}
