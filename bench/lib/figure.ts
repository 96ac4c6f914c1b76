/**
 * One row of the results table. `rounds` and `anchor` are measured in the same run;
 * `ratio` is rounds / anchor (medians of interleaved pairs). A goal is a bound on the
 * ratio, except where the issue states an absolute bound (scale), which `goal.on` says.
 */
export interface Figure {
  bench: string;
  figure: string;
  unit: string;
  rounds: number | null;
  /** What the anchor is, e.g. "blackbox_exporter http_2xx". */
  anchorName: string | null;
  anchor: number | null;
  ratio: number | null;
  goal: Goal | null;
  /** null: nothing to judge (reported only, or pending). */
  met: boolean | null;
  note?: string;
}

export interface Goal {
  on: 'ratio' | 'value';
  op: '>=' | '<=' | '<' | '>' | '==';
  bound: number;
}

export function judge(goal: Goal | null, rounds: number | null, ratio: number | null): boolean | null {
  if (!goal) return null;
  const v = goal.on === 'ratio' ? ratio : rounds;
  if (v === null || !Number.isFinite(v)) return false;
  switch (goal.op) {
    case '>=':
      return v >= goal.bound;
    case '<=':
      return v <= goal.bound;
    case '<':
      return v < goal.bound;
    case '>':
      return v > goal.bound;
    case '==':
      return v === goal.bound;
  }
}

export function goalText(goal: Goal | null): string {
  if (!goal) return '—';
  return goal.on === 'ratio' ? `${goal.op} ${goal.bound}×` : `${goal.op} ${goal.bound}`;
}

/** A figure compared with an anchor: the ratio and the verdict follow from the numbers. */
export function compared(
  bench: string,
  figure: string,
  unit: string,
  rounds: number,
  anchorName: string,
  anchor: number,
  goal: Goal | null,
  note?: string,
): Figure {
  const ratio = anchor > 0 ? rounds / anchor : null;
  return { bench, figure, unit, rounds, anchorName, anchor, ratio, goal, met: judge(goal, rounds, ratio), note };
}

/** A figure with an absolute bound (or none), no anchor. */
export function absolute(bench: string, figure: string, unit: string, rounds: number | null, goal: Goal | null, note?: string): Figure {
  return { bench, figure, unit, rounds, anchorName: null, anchor: null, ratio: null, goal, met: judge(goal, rounds, null), note };
}

/** What every benchmark file exports: one name, one signature. */
export interface Benchmark {
  name: string;
  /** One line for the list printed by `npm run bench -- --list`. */
  description: string;
  /** Left out of a plain `npm run bench` (too long for the suite); runs when named. */
  optIn?: boolean;
  run(ctx: BenchContext): Promise<Figure[]>;
}

export interface BenchContext {
  /** Progress lines for the person watching (stderr); the table goes to stdout. */
  log(line: string): void;
  /** Registers cleanup that runs even when the benchmark throws (stop daemons, remove temp dirs). */
  defer(cleanup: () => Promise<void> | void): void;
}
