import type { AgentView } from '../../inventory/agents.service.js';
import { tagsInline } from '../form-tags.js';
import { CsrfField, Layout, Notice, Time, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';
import { StatusBadge } from './status.page.js';

/** The enrol form as typed. */
export interface EnrolForm {
  name: string;
  enrol: string;
  tags: string;
}

export interface AgentsModel {
  viewer: Viewer | undefined;
  agents: readonly (AgentView & { checks: number })[];
  canEnrol: boolean;
  form: EnrolForm;
  errors: FieldErrors;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

/** `ab12cd…` → `AB:12:CD:…`, eight pairs a line: how a person compares a fingerprint with the one `rounds-agent init` printed. */
export function fingerprintLines(hex: string): string[] {
  const pairs = hex.toUpperCase().match(/../g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += 8) lines.push(pairs.slice(i, i + 8).join(':'));
  return lines;
}

const health = (a: AgentView) => (a.health ?? {}) as { spoolDepth?: number };

function EnrolFields({ form, errors }: { form: EnrolForm; errors: FieldErrors }) {
  const field = (name: keyof EnrolForm) => (errors[name] ? { 'aria-invalid': 'true' as const, 'aria-describedby': `enrol-${name}-error` } : {});
  const error = (name: keyof EnrolForm) =>
    errors[name] ? (
      <span class="field-error" id={`enrol-${name}-error`}>
        {errors[name]}
      </span>
    ) : null;
  return (
    <>
      <label>
        Name
        <span class="hint">how Rounds calls it: letters, digits, dots, dashes (pacs-north, ct-ward-2)</span>
        <input type="text" name="name" value={form.name} {...field('name')} />
        {error('name')}
      </label>
      <label>
        Enrolment string
        <span class="hint">
          the last line <code>rounds-agent init</code> printed on the agent's machine (starts with rounds://)
        </span>
        <textarea name="enrol" rows={3} {...field('enrol')}>
          {form.enrol}
        </textarea>
        {error('enrol')}
      </label>
      <label>
        Tags
        <span class="hint">key=value, one a line (site=north)</span>
        <textarea name="tags" rows={2} {...field('tags')}>
          {form.tags}
        </textarea>
        {error('tags')}
      </label>
    </>
  );
}

/** Every agent: its state in words, when it was last seen, its last error, version, plugins, spool and checks; operators enrol new ones here. */
export function AgentsPage(m: AgentsModel) {
  return (
    <Layout title="Agents" viewer={m.viewer} section="agents">
      <h1>Agents</h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.agents.length === 0 ? (
        <p class="muted">No agents yet.{m.canEnrol ? ' Enrol the first one below.' : ''}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>State</th>
              <th>Agent</th>
              <th>Last seen</th>
              <th>Last error</th>
              <th>Version</th>
              <th>Plugins</th>
              <th class="num">Spool</th>
              <th class="num">Checks</th>
              <th>Tags</th>
            </tr>
          </thead>
          <tbody>
            {m.agents.map((a) => (
              <tr>
                <td>
                  <StatusBadge status={a.state} />
                </td>
                <td>
                  <a href={`/agents/${a.id}`}>{a.name}</a>
                  <br />
                  <span class="muted">
                    {a.host}:{a.port}
                    {a.polledBy !== null ? ` · polled by ${a.polledBy}` : ''}
                  </span>
                </td>
                <td>
                  <Time ms={a.lastSeenAt} />
                </td>
                <td class="summary">{a.lastError ?? ''}</td>
                <td>
                  {a.agent?.version ?? '—'}
                  {a.versionSkew ? (
                    <>
                      {' '}
                      <StatusBadge status="WARNING" title={a.versionSkew.message} />{' '}
                      {a.versionSkew.older === 'agent' ? 'older: update it' : 'newer than the collector'}
                    </>
                  ) : null}
                </td>
                <td class="muted">{a.agent ? a.agent.plugins.map((p) => p.name).join(', ') : 'not described yet'}</td>
                <td class="num">{health(a).spoolDepth ?? '—'}</td>
                <td class="num">{a.checks}</td>
                <td class="muted">{tagsInline(a.tags)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.canEnrol ? (
        <section class="card" aria-labelledby="enrol">
          <h2 id="enrol">Enrol an agent</h2>
          <p class="muted">
            On the machine to watch, install the agent and run <code>rounds-agent init --config agent.yaml</code>; it prints an enrolment string. Paste it here:
            the next page shows the agent's certificate fingerprint to compare before anything is saved.
          </p>
          <form class="stack" method="post" action="/agents/enrol">
            <CsrfField token={m.viewer?.csrf ?? ''} />
            <EnrolFields form={m.form} errors={m.errors} />
            <button type="submit">Next: check the fingerprint</button>
          </form>
        </section>
      ) : null}
      {m.viewer?.role === 'admin' ? (
        <section class="card" aria-labelledby="enrol-many">
          <h2 id="enrol-many">Enrol many agents</h2>
          <p class="muted">
            Installing dozens of agents? Install them with the site key instead of copying an enrolment string from each, then paste the list of their
            addresses: <a href="/agents/enrol-many">Enrol many agents with the site key</a>.
          </p>
        </section>
      ) : null}
    </Layout>
  );
}

/** Step two: where the agent is and the fingerprint of its certificate, to compare with what its machine printed; the pasted string travels sealed. */
export function EnrolConfirmPage(props: {
  viewer: Viewer | undefined;
  name: string;
  host: string;
  port: number;
  fingerprint: string;
  sealed: string;
  tags: string;
}) {
  return (
    <Layout title="Enrol an agent" viewer={props.viewer} section="agents" narrow>
      <h1>Is this the agent?</h1>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{props.name}</dd>
        <dt>Address</dt>
        <dd>
          {props.host}:{props.port}
        </dd>
      </dl>
      <p>Certificate fingerprint (SHA-256):</p>
      <pre class="secret fingerprint">{fingerprintLines(props.fingerprint).join('\n')}</pre>
      <p>
        Compare it with the fingerprint <code>rounds-agent init</code> printed on the agent's machine. If they differ, do not enrol: something else answers at
        that address.
      </p>
      <form method="post" action="/agents" class="actions">
        <CsrfField token={props.viewer?.csrf ?? ''} />
        <input type="hidden" name="name" value={props.name} />
        <input type="hidden" name="sealed" value={props.sealed} />
        <input type="hidden" name="tags" value={props.tags} />
        <button type="submit" data-busy="Contacting the agent…">
          They match: enrol {props.name}
        </button>
        <a href="/agents">Cancel</a>
      </form>
    </Layout>
  );
}
