import { createHash } from 'node:crypto';

/**
 * The admin UI's one stylesheet, served by the collector itself (hospital networks are often
 * offline: no CDN) at a path that names its content, so browsers may cache it for good. A file
 * rather than inline styles so the Content-Security-Policy can say `style-src 'self'`.
 */
export const STYLESHEET = `
:root{--ink:#1d2430;--muted:#5f6b7a;--line:#e3e6ea;--bg:#f5f6f8;--ok:#2e7d32;--warn:#a65f00;--crit:#c62828;--info:#1f5fa8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink);background:var(--bg)}
a{color:var(--info)}
header.top{background:var(--ink);color:#fff;padding:10px 24px;display:flex;gap:20px;align-items:center;flex-wrap:wrap}
header.top .brand{color:#fff;font-size:18px;font-weight:700;text-decoration:none}
header.top nav{display:flex;gap:16px;align-items:center;flex:1}
header.top nav a{color:#dfe6f0;text-decoration:none}header.top nav a[aria-current]{color:#fff;font-weight:600;border-bottom:2px solid #fff}
header.top .who{margin-left:auto;display:flex;gap:12px;align-items:center;color:#dfe6f0}
main{padding:16px 24px;max-width:1200px}
main.narrow{max-width:440px;margin:40px auto;background:#fff;border:1px solid var(--line);border-radius:6px;padding:24px 28px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:16px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;background:#eef0f3}
section.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 20px 16px;margin-bottom:16px}
form.stack{display:flex;flex-direction:column;gap:12px;max-width:420px}form.stack.wide{max-width:760px}form.stack.wide textarea{font-family:ui-monospace,Menlo,Consolas,monospace}
form.inline{display:inline}td>form.inline{white-space:nowrap}th{white-space:nowrap}
label{display:flex;flex-direction:column;gap:4px;font-weight:600}
label .hint{font-weight:400;color:var(--muted);font-size:13px}
input[type=text],input[type=search],input[type=password],input[type=date],input[type=datetime-local],select{font:inherit;padding:6px 8px;border:1px solid #b8c0cc;border-radius:4px}
input[aria-invalid=true]{border-color:var(--crit);outline:1px solid var(--crit)}
.field-error{color:var(--crit);font-weight:600;font-size:13px}
button{font:inherit;padding:6px 14px;border-radius:4px;border:1px solid #2c4a73;background:#2c4a73;color:#fff;cursor:pointer}
a.button{display:inline-block;font:inherit;padding:6px 14px;border-radius:4px;border:1px solid #2c4a73;background:#2c4a73;color:#fff;text-decoration:none}
a.button.secondary{background:#fff;color:#2c4a73}form[aria-busy=true] button{cursor:progress;opacity:.75}a.button.danger{background:#fff;color:var(--crit);border-color:var(--crit)}
button.secondary{background:#fff;color:#2c4a73}button.danger{background:#fff;color:var(--crit);border-color:var(--crit)}
header.top button{padding:3px 10px;background:transparent;border-color:#8795a8}
.notice{padding:10px 14px;border-radius:4px;margin:0 0 14px;border:1px solid}
.notice.error{background:#fdecec;border-color:var(--crit)}.notice.ok{background:#e9f5ea;border-color:var(--ok)}.notice.info{background:#eaf1fb;border-color:var(--info)}
.secret{font:15px/1.6 ui-monospace,Menlo,Consolas,monospace;background:#f1f3f6;padding:8px 12px;border-radius:4px;word-break:break-all;user-select:all}
ol.codes{columns:2;font:15px/1.8 ui-monospace,Menlo,Consolas,monospace}
.qr{width:220px;height:220px;display:block;margin:8px 0;image-rendering:pixelated}
.muted{color:var(--muted)}.summary{max-width:640px;word-break:break-word}
.badge{display:inline-block;white-space:nowrap;min-width:72px;text-align:center;border-radius:3px;padding:1px 6px;font-weight:600;color:#fff}
.OK,.UP{background:var(--ok)}.WARNING{background:var(--warn)}.CRITICAL,.DOWN{background:var(--crit)}.UNKNOWN,.PENDING{background:#6b7280}
.STALE{background:#fff;color:#6b7280;border:1px dashed #6b7280}.stale td{color:#6b7280}
.counts span{margin-right:12px}.counts .badge span{margin:0}
ul.tiles{list-style:none;margin:0 0 16px;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:8px}
li.tile{background:#fff;border:1px solid var(--line);border-left:6px solid #6b7280;border-radius:4px;padding:8px 10px;display:flex;flex-direction:column;gap:2px;min-width:0}
li.tile.s-OK{border-left-color:var(--ok)}li.tile.s-WARNING{border-left-color:var(--warn)}li.tile.s-CRITICAL{border-left-color:var(--crit)}li.tile.stale{border-left-style:dashed}
li.tile .name{font-weight:600;word-break:break-word}li.tile .summary{font-size:13px;max-height:3.9em;overflow:hidden}li.tile .age{font-size:12px;color:var(--muted)}
.actions{display:flex;gap:6px;flex-wrap:wrap}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0 16px}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.ranges nav{display:flex;gap:16px;margin:8px 0}.ranges nav a[aria-current]{font-weight:700;text-decoration:none;color:var(--ink)}.range-form{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 12px}
.chart{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px;min-height:60px;margin-bottom:12px}
fieldset{border:1px solid var(--line);border-radius:4px;display:flex;gap:12px;flex-wrap:wrap}label.inline{flex-direction:row;align-items:center;font-weight:400}
form.check-form{display:flex;flex-direction:column;gap:12px;max-width:760px}
form.check-form .row{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-end}.field{display:flex;flex-direction:column;gap:4px}form.check-form .field.wide{flex:1;min-width:240px}
.field label{font-weight:600}.field input[type=text],.field input[type=password],.field textarea{width:100%}
fieldset.config,fieldset.config-group{flex-direction:column;padding:8px 14px 12px}fieldset.config legend,fieldset.config-group legend{font-weight:600;padding:0 4px}
.check-field{display:flex;flex-direction:column;gap:2px}.hint{font-weight:400;color:var(--muted);font-size:13px}
textarea{font:inherit;padding:6px 8px;border:1px solid #b8c0cc;border-radius:4px}
form.ack{display:flex;gap:8px;flex-wrap:wrap;align-items:flex-end}form.ack input[type=text]{min-width:220px}
form.report-filter{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-end;margin-bottom:12px}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}tfoot th{border-top:2px solid var(--ink)}
@media (max-width:700px){header.top{padding:8px 12px;gap:8px}header.top nav{flex-wrap:wrap;gap:6px 12px}header.top .who{margin-left:0;flex-wrap:wrap}
main{padding:12px}main.narrow{margin:12px;padding:16px}table{display:block;overflow-x:auto;max-width:100%}ul.tiles{grid-template-columns:1fr}
form.report-filter,form.ack{flex-direction:column;align-items:stretch}form.check-form .row{flex-direction:column;align-items:stretch}
input[type=text],input[type=search],input[type=password],select,textarea{max-width:100%}.summary{max-width:100%}pre,code{white-space:pre-wrap;word-break:break-all}.chart{overflow-x:auto}}
@media print{header.top,form.report-filter,.no-print{display:none}body,table{background:#fff}main{max-width:none;padding:0}th{background:#fff}table{font-size:11px}a{color:inherit;text-decoration:none}}
`;

export const STYLESHEET_PATH = `/assets/rounds.${createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12)}.css`;
