import type { EnrolmentView, SiteKeyStatus } from '../../enrolment/enrolments.service.js';
import { CSV_FILE, HTMX } from '../assets.js';
import { tagsInline } from '../form-tags.js';
import { fingerprintLines } from './agents.page.js';
import { CsrfField, Layout, Notice, Time, type NoticeKind, type Viewer } from './layout.js';

export interface EnrolManyModel {
  viewer: Viewer | undefined;
  siteKey: SiteKeyStatus;
  /** A site key just made: its only showing. */
  newKey?: string | undefined;
  enrolments: readonly EnrolmentView[];
  csv: string;
  csvError?: string | undefined;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

const STATE_WORDS: Record<EnrolmentView['state'], string> = {
  contacting: 'contacting…',
  pending: 'waiting for approval',
  approved: 'approved: claiming…',
  enrolled: 'enrolled',
  failed: 'not enrolled',
};

/** Lines done with that the page still shows: the most recent of each kind. */
const SHOWN_DONE = 200;

function Dismiss({ e, csrf }: { e: EnrolmentView; csrf: string }) {
  return (
    <form class="inline" method="post" action={`/agents/enrol-many/${e.id}/dismiss`}>
      <CsrfField token={csrf} />
      <button class="secondary" type="submit" aria-label={`Dismiss ${e.name}`}>
        Dismiss
      </button>
    </form>
  );
}

/**
 * The lines of every list by where they are — waiting for approval (with the fingerprint to
 * compare), under way, not enrolled (why), enrolled. While some are under way the block fetches
 * itself again every two seconds (htmx; a page without scripts reloads), so progress shows per address.
 */
export function EnrolmentBoard({ enrolments, csrf }: { enrolments: readonly EnrolmentView[]; csrf: string }) {
  const of = (...states: EnrolmentView['state'][]) => enrolments.filter((e) => states.includes(e.state));
  const waiting = of('pending');
  const busy = of('contacting', 'approved');
  const failed = of('failed').slice(0, SHOWN_DONE);
  const enrolled = of('enrolled').slice(0, SHOWN_DONE);
  const live =
    busy.length > 0
      ? { 'hx-get': '/agents/enrol-many', 'hx-select': '#enrolments', 'hx-target': 'this', 'hx-swap': 'outerHTML', 'hx-trigger': 'every 2s' }
      : {};
  return (
    <div id="enrolments" aria-live="polite" {...live}>
      {busy.length > 0 ? (
        <section class="card" aria-labelledby="busy">
          <h2 id="busy">Under way ({busy.length})</h2>
          <table>
            <thead>
              <tr>
                <th>Line</th>
                <th>Name</th>
                <th>Address</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {busy.map((e) => (
                <tr data-enrolment={e.name}>
                  <td class="num">{e.line}</td>
                  <td>{e.name}</td>
                  <td>{e.address}</td>
                  <td>{STATE_WORDS[e.state]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {waiting.length > 0 ? (
        <section class="card" aria-labelledby="waiting">
          <h2 id="waiting">Waiting for approval ({waiting.length})</h2>
          <p class="muted">
            These agents answered and proved they were installed with the site key. Compare each fingerprint with the one its machine printed (
            <code>rounds-agent init</code> and the agent's log show it); dismiss any you do not recognise, then approve the rest.
          </p>
          <table>
            <thead>
              <tr>
                <th>Line</th>
                <th>Name</th>
                <th>Address</th>
                <th>Agent</th>
                <th>Certificate fingerprint (SHA-256)</th>
                <th>Tags</th>
                <th>Note</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {waiting.map((e) => (
                <tr data-enrolment={e.name}>
                  <td class="num">{e.line}</td>
                  <td>{e.name}</td>
                  <td>{e.address}</td>
                  <td>
                    <code>{e.agent?.id ?? ''}</code>
                    <br />
                    <span class="muted">
                      {e.agent?.hostname ?? ''}
                      {e.agent?.version ? ` · rounds-agent ${e.agent.version}` : ''}
                    </span>
                  </td>
                  <td>
                    <pre class="secret fingerprint">{fingerprintLines(e.fingerprint ?? '').join('\n')}</pre>
                  </td>
                  <td class="muted">{tagsInline(e.tags)}</td>
                  <td class="summary">{e.error ?? ''}</td>
                  <td class="actions">
                    <Dismiss e={e} csrf={csrf} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form method="post" action="/agents/enrol-many/approve" class="actions">
            <CsrfField token={csrf} />
            {/* The lines shown, as one field: an agent that answers after this page was drawn is not approved with them. */}
            <input type="hidden" name="ids" value={waiting.map((e) => e.id).join(',')} />
            <button type="submit" data-busy="Approving…">
              The fingerprints match: approve {waiting.length === 1 ? waiting[0]!.name : `these ${waiting.length} agents`}
            </button>
          </form>
        </section>
      ) : null}
      {failed.length > 0 ? (
        <section class="card" aria-labelledby="failed">
          <h2 id="failed">Not enrolled ({failed.length})</h2>
          <table>
            <thead>
              <tr>
                <th>Line</th>
                <th>Name</th>
                <th>Address</th>
                <th>Why</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {failed.map((e) => (
                <tr data-enrolment={e.name}>
                  <td class="num">{e.line}</td>
                  <td>{e.name}</td>
                  <td>{e.address}</td>
                  <td class="summary">{e.error ?? ''}</td>
                  <td class="actions">
                    <Dismiss e={e} csrf={csrf} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {enrolled.length > 0 ? (
        <section class="card" aria-labelledby="enrolled">
          <h2 id="enrolled">Enrolled ({enrolled.length})</h2>
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Address</th>
                <th>Approved by</th>
                <th>When</th>
              </tr>
            </thead>
            <tbody>
              {enrolled.map((e) => (
                <tr data-enrolment={e.name}>
                  <td>{e.enrolledAs ? <a href={`/agents/${e.enrolledAs}`}>{e.name}</a> : e.name}</td>
                  <td>{e.address}</td>
                  <td>{e.approvedBy ?? ''}</td>
                  <td>
                    <Time ms={e.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </div>
  );
}

/** Admins: the site key, a list of agents to enrol with it (pasted or read from a file), and the lines' progress and approval. */
export function EnrolManyPage(m: EnrolManyModel) {
  const csrf = m.viewer?.csrf ?? '';
  const busy = m.enrolments.some((e) => e.state === 'contacting' || e.state === 'approved');
  return (
    <Layout
      title="Enrol many agents"
      viewer={m.viewer}
      section="agents"
      refreshWithoutScriptSeconds={busy ? 3 : undefined}
      assets={{ scripts: [HTMX.path, CSV_FILE.path] }}
    >
      <h1>Enrol many agents</h1>
      <p>
        <a href="/agents">← Agents</a>
      </p>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.newKey ? (
        <section class="card" aria-labelledby="new-key">
          <h2 id="new-key">The new site key</h2>
          <p class="secret" data-site-key>
            {m.newKey}
          </p>
          <p>
            It is shown only now: keep it where the installation is prepared (the Windows installer's <code>SITE_KEY</code>, or a file for{' '}
            <code>rounds-agent init --site-key-file &lt;file&gt;</code>). Agents installed with an older key can no longer be claimed here.
          </p>
        </section>
      ) : null}
      <section class="card" aria-labelledby="site-key">
        <h2 id="site-key">Site key</h2>
        <p>
          {m.siteKey.set ? (
            <>
              Set <Time ms={m.siteKey.createdAt} /> by {m.siteKey.createdBy}. Agents installed with it wait to be claimed by this collector; the key itself
              never leaves it.
            </>
          ) : (
            'No site key yet: make one, then install the agents with it.'
          )}
        </p>
        <form method="post" action="/agents/site-key" class="actions">
          <CsrfField token={csrf} />
          <button type="submit" class={m.siteKey.set ? 'secondary' : undefined}>
            {m.siteKey.set ? 'Make a new site key (the current one stops working)' : 'Make a site key'}
          </button>
        </form>
      </section>
      <section class="card" aria-labelledby="list">
        <h2 id="list">Agents to enrol</h2>
        <p class="muted">
          Install each agent with the site key (<code>rounds-agent init --config agent.yaml --listen 0.0.0.0:7443 --site-key-file site.key</code>), then list
          them here, one a line: <code>name,address[,tags]</code>. Each is contacted; those that answer wait below for you to approve their certificate
          fingerprints.
        </p>
        <form class="stack wide" method="post" action="/agents/enrol-many">
          <CsrfField token={csrf} />
          <label>
            List (CSV)
            <span class="hint">pacs-01,10.0.4.7:7443,site=north;department=radiology — the port is 7443 when left out; a header line is skipped</span>
            <textarea
              id="enrol-csv"
              name="csv"
              rows={8}
              aria-invalid={m.csvError ? 'true' : undefined}
              aria-describedby={m.csvError ? 'enrol-csv-error' : undefined}
            >
              {m.csv}
            </textarea>
            {m.csvError ? (
              <span class="field-error" id="enrol-csv-error">
                {m.csvError}
              </span>
            ) : null}
          </label>
          {/* Without scripts a file cannot reach the text box: the field shows only where it works. */}
          <label hidden data-needs-script>
            Or read a file
            <input type="file" accept=".csv,text/csv,text/plain" data-fills="enrol-csv" />
          </label>
          <button type="submit" data-busy="Saving the list…" disabled={!m.siteKey.set}>
            Contact these agents
          </button>
        </form>
      </section>
      <EnrolmentBoard enrolments={m.enrolments} csrf={csrf} />
    </Layout>
  );
}
