import { createHash } from 'node:crypto';

/** The `prev_hash` of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** Versions the canonical form, so that a later change of it can be told apart from tampering. */
const FORMAT = 'rounds-audit-v1';

/** The fields a row's hash covers: all of them, as stored, with the hash of the row before. */
export interface ChainedRow {
  id: number;
  at: number;
  actor: string;
  source: string;
  address: string | null;
  userAgent: string | null;
  action: string;
  targetKind: string;
  targetId: string | null;
  targetName: string | null;
  beforeJson: string | null;
  afterJson: string | null;
  prevHash: string;
}

/**
 * The canonical serialisation: `JSON.stringify` of a fixed-order array of the format tag and
 * every field, `before`/`after` as their stored JSON text (not re-serialised, so the database's
 * text is what is hashed). An array of strings, integers and nulls has exactly one
 * JSON.stringify output, so anyone can recompute it from an export.
 */
export function canonicalForm(row: ChainedRow): string {
  return JSON.stringify([
    FORMAT,
    row.id,
    row.at,
    row.actor,
    row.source,
    row.address,
    row.userAgent,
    row.action,
    row.targetKind,
    row.targetId,
    row.targetName,
    row.beforeJson,
    row.afterJson,
    row.prevHash,
  ]);
}

/** SHA-256 (hex) of the row's canonical form. */
export function rowHash(row: ChainedRow): string {
  return createHash('sha256').update(canonicalForm(row), 'utf8').digest('hex');
}

/** Where verifying the chain stopped; `problem` says what differs. */
export interface ChainBreak {
  id: number;
  problem: string;
}

/**
 * Checks rows handed over in id order, batch by batch (the log can be large), remembering only
 * the last row. Each row must follow the previous one without a gap, name its hash as
 * `prev_hash`, and hash to its stored `hash`.
 */
export class ChainVerifier {
  private lastId = 0;
  private lastHash = GENESIS_HASH;
  count = 0;
  broken: ChainBreak | undefined;

  /** Returns false once the chain is broken (later rows are not looked at). */
  add(rows: readonly (ChainedRow & { hash: string })[]): boolean {
    for (const row of rows) {
      if (this.broken) return false;
      this.broken = this.judge(row);
      if (this.broken) return false;
      this.lastId = row.id;
      this.lastHash = row.hash;
      this.count++;
    }
    return true;
  }

  /** The newest row checked: note its hash elsewhere to detect later truncation of the log's end. */
  get head(): { id: number; hash: string } {
    return { id: this.lastId, hash: this.lastHash };
  }

  private judge(row: ChainedRow & { hash: string }): ChainBreak | undefined {
    const expectedId = this.lastId + 1;
    if (row.id !== expectedId) {
      const missing = row.id - 1 === expectedId ? `row ${expectedId} is` : `rows ${expectedId}–${row.id - 1} are`;
      const after = this.lastId === 0 ? 'it is the first row' : `it follows row ${this.lastId}`;
      return { id: expectedId, problem: `${missing} missing (deleted): the next row is ${row.id}, and ${after}` };
    }
    if (row.prevHash !== this.lastHash) {
      const previous = this.lastId === 0 ? 'the start of the chain' : `row ${this.lastId}'s hash`;
      return {
        id: row.id,
        problem: `prev_hash ${short(row.prevHash)} does not match ${previous} ${short(this.lastHash)}: a row before it was rewritten, or this row's prev_hash was changed`,
      };
    }
    const recomputed = rowHash(row);
    if (recomputed !== row.hash) {
      return {
        id: row.id,
        problem: `its contents hash to ${short(recomputed)}, not to the stored ${short(row.hash)}: a field of this row was changed after it was written`,
      };
    }
    return undefined;
  }
}

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}
