import type { CollectorConfig } from '../config/env.js';
import { withContext, type AdminArgs } from '../cli/local.js';
import { parseDto } from '../shared/dto.js';
import { auditQuery } from './audit.dto.js';
import { AuditService } from './audit.service.js';
import type { AuditEntry } from './audit.types.js';

const USAGE = 'usage: rounds-collector audit verify | audit list [--limit 20]';

/**
 * `audit verify`: exit 0 and "OK" with the count and the head (note its hash somewhere else:
 * only that shows a log cut short at its end), or exit 2 naming the first broken row.
 * `audit list`: the newest rows, one line each.
 */
export async function auditCommand(config: CollectorConfig, { positionals, values }: AdminArgs, print: (s: string) => void): Promise<number> {
  const [sub] = positionals;
  if (sub !== 'verify' && sub !== 'list') throw new Error(USAGE);
  return withContext(config, async (app) => {
    const audit = app.get(AuditService);
    if (sub === 'list') {
      const query = parseDto(auditQuery, { limit: typeof values['limit'] === 'string' ? values['limit'] : 20 }, 'invalid --limit');
      for (const entry of await audit.list(query)) print(line(entry));
      return 0;
    }
    const result = await audit.verify();
    if (result.ok) {
      print(
        result.count === 0 ? 'OK: the audit log is empty' : `OK: ${result.count} rows, the chain is intact; head #${result.head.id} sha256 ${result.head.hash}`,
      );
      return 0;
    }
    print(`BROKEN at row ${result.broken.id}: ${result.broken.problem} (${result.checked} rows before it are intact)`);
    return 2;
  });
}

function line(e: AuditEntry): string {
  const target = [e.target.kind, e.target.name ?? e.target.id].filter((p) => p !== null).join(' ');
  const from = [e.address, e.userAgent].filter((p) => p !== null).join(' ');
  return `#${e.id} ${new Date(e.at).toISOString()} ${e.actor} (${e.source}${from ? ` ${from}` : ''}) ${e.action} ${target}`;
}
