import { html, trusted, type SafeHtml } from './html.js';

export interface StatusPageAgent {
  id: string;
  name: string;
  address: string;
  state: string;
  lastSeenAt: number | null;
  lastError: string | null;
  checks: number;
}

export interface StatusPageCheck {
  id: string;
  name: string;
  agent: string;
  plugin: string;
  status: string;
  summary: string;
  lastResultAt: number | null;
  enabled: boolean;
  /** Why the status is old news (agent DOWN, results overdue); null when it is current. */
  stale: string | null;
}

export interface StatusPageModel {
  version: string;
  now: number;
  agents: StatusPageAgent[];
  checks: StatusPageCheck[];
}

function ago(now: number, at: number | null): string {
  if (at === null) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2430;background:#f5f6f8}
header{background:#1d2430;color:#fff;padding:12px 24px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}main{padding:16px 24px}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:24px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{font-weight:600;background:#eef0f3}
.badge{display:inline-block;min-width:72px;text-align:center;border-radius:3px;padding:1px 6px;font-weight:600;color:#fff}
.OK,.UP{background:#2e7d32}.WARNING{background:#ed8c00}.CRITICAL,.DOWN{background:#c62828}.UNKNOWN,.PENDING{background:#6b7280}
.STALE{background:#fff;color:#6b7280;border:1px dashed #6b7280}.stale td{color:#6b7280}
.muted{color:#6b7280}.summary{max-width:640px;word-break:break-word}
.counts span{margin-right:12px}`;

/** The first status page: agents and checks with their state. Grows into the admin UI. */
export function statusPage(model: StatusPageModel): SafeHtml {
  const counts = new Map<string, number>();
  for (const c of model.checks) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const stale = model.checks.filter((c) => c.stale).length;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="15"><title>Rounds — status</title><style>${trusted(STYLE)}</style></head>
<body><header><h1>Rounds</h1><span class="muted">collector ${model.version}</span></header>
<main>
<p class="counts">${['OK', 'WARNING', 'CRITICAL', 'UNKNOWN', 'PENDING'].map(
    (s) => html`<span><span class="badge ${s}">${s}</span> ${counts.get(s) ?? 0}</span>`,
  )}${stale > 0 ? html`<span><span class="badge STALE">STALE</span> ${stale} (counted above by their last status)</span>` : ''}</p>
<h2>Agents (${model.agents.length})</h2>
${
  model.agents.length === 0
    ? html`<p class="muted">No agents yet. On the machine to watch: <code>rounds-agent init --config agent.yaml</code>, then here: <code>rounds-collector agent add --name NAME --enrol STRING</code>.</p>`
    : html`<table><thead><tr><th>State</th><th>Agent</th><th>Address</th><th>Checks</th><th>Last seen</th><th>Last error</th></tr></thead><tbody>
${model.agents.map(
  (a) =>
    html`<tr data-agent="${a.id}"><td><span class="badge ${a.state}">${a.state}</span></td><td>${a.name}</td><td>${a.address}</td><td>${a.checks}</td><td>${ago(model.now, a.lastSeenAt)}</td><td class="summary">${a.lastError ?? ''}</td></tr>`,
)}</tbody></table>`
}
<h2>Checks (${model.checks.length})</h2>
${
  model.checks.length === 0
    ? html`<p class="muted">No checks yet: add one with <code>POST /api/v1/checks</code> or <code>rounds-collector check add</code>.</p>`
    : html`<table><thead><tr><th>Status</th><th>Check</th><th>Agent</th><th>Plugin</th><th>Summary</th><th>Last result</th></tr></thead><tbody>
${model.checks.map(
  (c) =>
    html`<tr data-check="${c.id}"${c.stale ? html` class="stale"` : ''}><td><span class="badge ${c.status}">${c.status}</span>${
      c.stale ? html` <span class="badge STALE" title="${c.stale}">STALE</span>` : ''
    }</td><td>${c.name}${c.enabled ? '' : html` <span class="muted">(disabled)</span>`}</td><td>${c.agent}</td><td>${c.plugin}</td><td class="summary">${c.summary}${c.stale ? html`<br><span class="muted">stale: ${c.stale}</span>` : ''}</td><td>${ago(model.now, c.lastResultAt)}</td></tr>`,
)}</tbody></table>`
}
</main></body></html>`;
}
