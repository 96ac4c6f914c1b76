import type { AlertSource, MuteReason } from './alerts.js';
import type { EngineStore } from './engine-state.js';

/** A parent: a check or an agent, by id. */
export interface DependencyRef {
  kind: 'check' | 'agent';
  id: string;
}

/** A node of the dependency graph as `check:<id>` / `agent:<id>`: the key of {@link Dependencies}. */
export function nodeKey(ref: DependencyRef): string {
  return `${ref.kind}:${ref.id}`;
}

/** Every check's and agent's explicit parents, by {@link nodeKey}; a check's own agent is implied. */
export type Dependencies = ReadonlyMap<string, readonly DependencyRef[]>;

/** A parent as a mute reason names it: `name` is the check's or agent's display name. */
export interface NamedRef extends DependencyRef {
  name: string;
}

/**
 * Why a parent holds its children back:
 * - `down`: CRITICAL in a hard state (an agent: unreachable);
 * - `failing`: CRITICAL but not yet hard — its verdict is pending, and a child that goes hard
 *   first must not announce an outage its parent is about to explain;
 * - `recovered`: the parent came back after the child's latest result, so the child's state
 *   predates the recovery; its own next result says whether it is down on its own.
 */
export type ParentVerdict = 'down' | 'failing' | 'recovered';

/** The parents a source hangs from: its check's explicit ones and its agent (implied), or an agent's explicit ones. */
function parentsOf(store: EngineStore, node: DependencyRef, agentId: string | null): { ref: DependencyRef; implied: boolean }[] {
  const explicit = (store.dependencies.get(nodeKey(node)) ?? []).map((ref) => ({ ref, implied: false }));
  if (agentId === null || explicit.some((p) => p.ref.kind === 'agent' && p.ref.id === agentId)) return explicit;
  return [{ ref: { kind: 'agent', id: agentId }, implied: true }, ...explicit];
}

function verdict(store: EngineStore, parent: DependencyRef, childResultAt: number | null): ParentVerdict | null {
  if (parent.kind === 'agent') {
    const agent = store.agents.get(parent.id);
    if (!agent) return null;
    if (!agent.reachable) return 'down';
    return childResultAt !== null && agent.since !== null && agent.since > childResultAt ? 'recovered' : null;
  }
  const check = store.checks.get(parent.id);
  if (!check) return null;
  if (check.hardStatus === 'CRITICAL') return 'down';
  if (check.status === 'CRITICAL') return 'failing';
  const cameBack = check.lastHardChangeAt;
  return childResultAt !== null && cameBack !== null && cameBack > childResultAt ? 'recovered' : null;
}

function named(store: EngineStore, ref: DependencyRef): NamedRef {
  const name = ref.kind === 'agent' ? store.agents.get(ref.id)?.name : store.checks.get(ref.id)?.checkName;
  return { ...ref, name: name ?? ref.id };
}

/**
 * The first ancestor of a down parent that is itself down (following down parents up): the
 * cause a person looks at. Null when the parent is down on its own. Cycles are refused when
 * dependencies are saved; `seen` only keeps a hand-built graph from looping.
 */
function rootCause(store: EngineStore, parent: DependencyRef, seen = new Set<string>()): DependencyRef | null {
  seen.add(nodeKey(parent));
  const agentId = parent.kind === 'check' ? (store.checks.get(parent.id)?.agentId ?? null) : null;
  for (const { ref } of parentsOf(store, parent, agentId)) {
    if (seen.has(nodeKey(ref)) || verdict(store, ref, null) !== 'down') continue;
    return rootCause(store, ref, seen) ?? ref;
  }
  return null;
}

/**
 * Why a check or agent is held back by what it depends on: one reason per parent that is down
 * (or failing, or recovered after the child's latest result). Transitive through each parent's
 * real state — a child of B is held while B is down, whatever made B go down, and not while B
 * is up, whatever B depends on. The implied parent (a check's own agent) keeps its own reason,
 * `agent_unreachable`, and, as before dependencies existed, holds its checks only while it is
 * unreachable: their spooled results arrive with the agent, so their states are not stale.
 */
export function dependencyMutes(store: EngineStore, node: DependencyRef, agentId: string | null): MuteReason[] {
  const childResultAt = node.kind === 'check' ? (store.checks.get(node.id)?.lastResultAt ?? null) : null;
  const reasons: MuteReason[] = [];
  for (const { ref, implied } of parentsOf(store, node, agentId)) {
    const v = verdict(store, ref, childResultAt);
    if (v === null) continue;
    if (implied) {
      if (v === 'down') reasons.push({ type: 'agent_unreachable', agentId: ref.id });
      continue;
    }
    const root = v === 'down' ? rootCause(store, ref) : null;
    reasons.push({ type: 'dependency', parent: named(store, ref), verdict: v, rootCause: root && named(store, root) });
  }
  return reasons;
}

/** The dependency reasons of an alert's source (a check's alerts and rule alerts: the check's; an agent's: the agent's). */
export function sourceDependencyMutes(store: EngineStore, source: AlertSource): MuteReason[] {
  return source.type === 'agent'
    ? dependencyMutes(store, { kind: 'agent', id: source.agentId }, null)
    : dependencyMutes(store, { kind: 'check', id: source.checkId }, source.agentId);
}

/**
 * The first cycle in a dependency graph, as the nodes along it with the first repeated at the
 * end (`[a, b, a]`), or null. `edges` gives each node's parents, the implied ones (a check's
 * agent) included: an agent that depends on one of its own checks is a cycle too.
 */
export function findCycle(nodes: Iterable<string>, edges: (node: string) => readonly string[]): string[] | null {
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (done.has(node)) return null;
    const at = onPath.get(node);
    if (at !== undefined) return [...path.slice(at), node];
    onPath.set(node, path.length);
    path.push(node);
    for (const parent of edges(node)) {
      const cycle = visit(parent);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(node);
    done.add(node);
    return null;
  };
  for (const node of nodes) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const VERDICT_WORDS: Record<ParentVerdict, string> = { down: 'is down', failing: 'is failing', recovered: 'has just recovered' };

/** A dependency reason in words, as the alert list, the check page and the CLI show it: "suppressed by check ldap (is down)". */
export function suppressedText(reason: Extract<MuteReason, { type: 'dependency' }>): string {
  const { parent, verdict, rootCause } = reason;
  const cause = rootCause ? `, because ${rootCause.kind} ${rootCause.name} is down` : '';
  return `suppressed by ${parent.kind} ${parent.name} (${parent.kind === 'agent' && verdict === 'down' ? 'is unreachable' : VERDICT_WORDS[verdict]}${cause})`;
}
