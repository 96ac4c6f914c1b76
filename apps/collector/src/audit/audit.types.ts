import { userInfo } from 'node:os';

/** Where a change came from: the JSON API, the command line, the admin UI (to come), or the collector itself. */
export const AUDIT_SOURCES = ['api', 'cli', 'ui', 'system'] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

/**
 * Who made a change and from where. Built once per request (web/audit-context.ts) or per
 * command (cliAuditContext) and passed to every state-changing service method, which is
 * why the argument is required: a new caller cannot forget to say who it is.
 */
export interface AuditContext {
  /** `api-token` for the API's shared token, `cli:<os user>` for the CLI; user names once users exist. */
  actor: string;
  source: AuditSource;
  /** The TCP peer (no proxy header is trusted); null where there is none (CLI). */
  address: string | null;
  userAgent: string | null;
}

/** Every kind of change the log records; a new state-changing method adds its action here. */
export const AUDIT_ACTIONS = [
  'agent.enrol',
  'agent.update',
  'agent.remove',
  'agent.rotate-token',
  'check.create',
  'check.update',
  'check.delete',
  'channel.create',
  'channel.update',
  'channel.delete',
  'notification-policy.create',
  'notification-policy.update',
  'notification-policy.delete',
  'notification-routing.set',
  'alert.ack',
  'alert.unack',
  'rules.set',
  'silence.add',
  'silence.expire',
  'maintenance.put',
  'maintenance.remove',
  'check-policy.set',
  'api-token.rotate',
  'user.add',
  'user.disable',
  'user.enable',
  'user.reset-password',
  'user.reset-2fa',
  'user.set-role',
  'user.change-password',
  'user.enable-2fa',
  'user.use-backup-code',
  'user.backup-codes',
  'user.sign-in',
  'user.sign-in-failed',
  'user.lockout',
  'user.sign-out',
  'session.revoke',
  'api-token.create',
  'api-token.revoke',
  'site-key.create',
  'site-key.set',
  'site-key.remove',
  'enrolment.submit',
  'enrolment.approve',
  'enrolment.dismiss',
  'config.export-secrets',
  'on-call.create',
  'on-call.update',
  'on-call.delete',
  'on-call.override-add',
  'on-call.override-remove',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What was changed: `id` and `name` are null where the thing has none (the rule list, the API token). */
export interface AuditTarget {
  kind: string;
  id: string | null;
  name: string | null;
}

/**
 * One change as a service describes it; the repository adds the time, the position in the
 * chain and the hashes. `before`/`after` must already be redacted (the services build them from
 * the same redacting views the API shows) — the log is append-only, so a secret written
 * into it could never be removed without breaking the chain.
 */
export interface AuditDraft {
  context: AuditContext;
  action: AuditAction;
  target: AuditTarget;
  before: unknown;
  after: unknown;
}

/** A row of the log as the API and the CLI show it. */
export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  source: AuditSource;
  address: string | null;
  userAgent: string | null;
  action: string;
  target: AuditTarget;
  before: unknown;
  after: unknown;
  prevHash: string;
  hash: string;
}

/** The context of a `rounds-collector` command: the OS user who ran it. */
export function cliAuditContext(): AuditContext {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A uid without a passwd entry (containers): the number still says who it was.
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { actor: `cli:${user}`, source: 'cli', address: null, userAgent: null };
}

/**
 * Handed by a service to a repository's write method: builds the audit row from what the
 * repository wrote (a new id, the stored row), inside the transaction of the change.
 */
export type Audited<T> = (written: T) => AuditDraft;
