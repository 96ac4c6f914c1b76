import { QueryFailedError } from 'typeorm';

/** Which table and columns a failed write clashed on. */
export interface UniqueViolation {
  table?: string;
  columns: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * A unique-constraint (or primary-key) failure from either database, read from the driver's
 * error: SQLite's SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY ("UNIQUE constraint failed: checks.agent_id,
 * checks.name") or PostgreSQL's 23505 (table, and "Key (agent_id, name)=(…) already exists." as
 * detail). Undefined for every other error. The services check names first for a clear message;
 * this catches what slips past them (two requests at once, a table without a check).
 */
export function uniqueViolation(error: unknown): UniqueViolation | undefined {
  const driver = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  if (!isRecord(driver)) return undefined;
  const code = driver['code'];
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const qualified = (/constraint failed: (.+)$/.exec(String(driver['message'] ?? ''))?.[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return { table: qualified[0]?.split('.')[0], columns: qualified.map((c) => c.slice(c.lastIndexOf('.') + 1)) };
  }
  if (code === '23505') {
    const columns = (/^Key \(([^)]*)\)=/.exec(String(driver['detail'] ?? ''))?.[1] ?? '')
      .split(',')
      .map((s) => s.trim().replace(/^"|"$/g, ''))
      .filter(Boolean);
    return { table: typeof driver['table'] === 'string' ? driver['table'] : undefined, columns };
  }
  return undefined;
}
