import { formatInterval } from '#rounds/common';
import type { CollectorConfig } from './env.js';

/** One setting as the settings page and `GET /api/v1/settings` show it: what it is, its value now, and the variable that sets it. */
export interface SettingRow {
  group: string;
  name: string;
  value: string;
  variable: string;
}

const SET = 'set (not shown)';

/** `postgres://rounds:secret@db:5432/rounds` → `postgres://rounds:…@db:5432/rounds`: where, never the password. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '…';
    return u.toString();
  } catch {
    return SET;
  }
}

/** The collector's settings in effect, secrets left out (whether one is set is shown, never its value). */
export function settingRows(c: CollectorConfig): SettingRow[] {
  // Retention is set in days (14d): shown in days, like it is written.
  const ms = (v: number) => (v >= 86_400_000 && v % 86_400_000 === 0 ? `${v / 86_400_000}d` : formatInterval(v));
  return [
    {
      group: 'Storage',
      name: 'Database',
      value: c.databaseUrl ? withoutPassword(c.databaseUrl) : `SQLite in ${c.dataDir}`,
      variable: 'ROUNDS_DATABASE_URL, ROUNDS_DATA_DIR',
    },
    { group: 'Storage', name: 'Keep raw results', value: ms(c.retention.rawMs), variable: 'ROUNDS_RETENTION_RAW' },
    { group: 'Storage', name: 'Keep 1-minute buckets', value: ms(c.retention.minuteMs), variable: 'ROUNDS_RETENTION_1M' },
    { group: 'Storage', name: 'Keep 1-hour buckets', value: ms(c.retention.hourMs), variable: 'ROUNDS_RETENTION_1H' },
    {
      group: 'Storage',
      name: 'Secret key',
      value: c.secretKey ? 'from the environment' : (c.secretKeyFile ?? `${c.dataDir}/secret.key`),
      variable: 'ROUNDS_SECRET_KEY, ROUNDS_SECRET_KEY_FILE',
    },
    { group: 'Polling', name: 'Poll every agent every', value: ms(c.pollIntervalMs), variable: 'ROUNDS_POLL_INTERVAL_MS' },
    { group: 'Polling', name: 'Poll timeout', value: ms(c.pollTimeoutMs), variable: 'ROUNDS_POLL_TIMEOUT_MS' },
    { group: 'Polling', name: 'Agents polled at once', value: String(c.pollConcurrency), variable: 'ROUNDS_POLL_CONCURRENCY' },
    { group: 'Polling', name: 'An agent is DOWN after', value: `${c.downAfter} failed polls`, variable: 'ROUNDS_DOWN_AFTER' },
    { group: 'Polling', name: 'Longest wait between polls of a DOWN agent', value: ms(c.maxBackoffMs), variable: 'ROUNDS_MAX_BACKOFF_MS' },
    { group: 'Checks', name: 'Shortest check interval', value: ms(c.minCheckIntervalMs), variable: 'ROUNDS_MIN_CHECK_INTERVAL_MS' },
    { group: 'Checks', name: 'Most checks per agent', value: String(c.maxChecksPerAgent), variable: 'ROUNDS_MAX_CHECKS_PER_AGENT' },
    { group: 'Notifications', name: 'Links in notifications', value: c.publicUrl ?? 'none (unset)', variable: 'ROUNDS_PUBLIC_URL' },
    {
      group: 'Notifications',
      name: 'Retry a failed delivery after',
      value: `${ms(c.notifyRetryMs)}, doubling up to ${ms(c.notifyMaxRetryMs)}`,
      variable: 'ROUNDS_NOTIFY_RETRY_MS, ROUNDS_NOTIFY_MAX_RETRY_MS',
    },
    { group: 'Notifications', name: 'Tell the channels storage fails after', value: ms(c.storageAlertAfterMs), variable: 'ROUNDS_STORAGE_ALERT_AFTER_MS' },
    { group: 'Web', name: 'Listens on', value: `${c.httpHost}:${c.httpPort}`, variable: 'ROUNDS_HTTP_HOST, ROUNDS_HTTP_PORT' },
    {
      group: 'Web',
      name: 'HTTPS',
      value: !c.tls
        ? 'off (plain HTTP)'
        : 'certFile' in c.tls
          ? `certificate ${c.tls.certFile}`
          : `self-signed for ${c.tls.selfSigned.names.join(', ') || 'this machine'}`,
      variable: 'ROUNDS_TLS_CERT, ROUNDS_TLS_KEY, ROUNDS_TLS_SELF_SIGNED, ROUNDS_TLS_NAMES',
    },
    {
      group: 'Web',
      name: 'Two-factor sign-in required for',
      value: c.twoFactorRequiredRoles?.join(', ') || 'nobody (each user may turn it on)',
      variable: 'ROUNDS_2FA_REQUIRED_ROLES',
    },
    {
      group: 'Web',
      name: '/metrics',
      value: c.metricsAuth.token ? `token ${SET}` : c.metricsAuth.basic ? `user ${c.metricsAuth.basic.user}, password ${SET}` : 'open (keep it on loopback)',
      variable: 'ROUNDS_METRICS_TOKEN, ROUNDS_METRICS_USER, ROUNDS_METRICS_PASSWORD',
    },
    {
      group: 'Web',
      name: 'API requests a minute per token, session or address',
      value: c.apiRateLimit === 0 ? 'no limit' : String(c.apiRateLimit),
      variable: 'ROUNDS_API_RATE_LIMIT',
    },
    { group: 'Web', name: 'Log level', value: c.logLevel, variable: 'ROUNDS_LOG_LEVEL' },
  ];
}
