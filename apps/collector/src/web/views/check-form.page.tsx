import type { FormField } from '../schema-form.js';
import { CsrfField, Layout, Notice, Time, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';
import { ErrorOf, invalid, SchemaFields } from './schema-fields.js';
import { StatusBadge } from './status.page.js';
import { labelText } from '../../shared/labels.js';

/** The check's own fields as typed. */
export interface CheckFormValues {
  agent: string;
  plugin: string;
  name: string;
  /** `30s`, `5m`… */
  interval: string;
  timeout: string;
  enabled: boolean;
  /** `key=value`, one a line. */
  tags: string;
  /** Parents, one a line (`check:<agent>/<check>`, `agent:<agent>`). */
  dependsOn: string;
}

/** What "test now" gave. */
export interface TestOutcome {
  status: string;
  summary: string;
  reason: string;
  durationMs: number;
  startedAt: number;
  metrics: readonly { name?: string; value?: number; unit?: string; labels?: Record<string, string> }[];
}

export interface CheckFormModel {
  viewer: Viewer | undefined;
  /** null: a new check (or a clone); else the check being edited. */
  editing: { id: string; name: string } | null;
  values: CheckFormValues;
  agents: readonly string[];
  plugins: readonly { name: string; description: string }[];
  /** The chosen plugin's config fields (from its JSON Schema) and their values. */
  fields: readonly FormField[];
  config: Readonly<Record<string, string>>;
  /** Secret fields with a value stored (edit, clone) or typed before a test (carried sealed). */
  secretsSet: ReadonlySet<string>;
  /** Secrets typed before "test now", sealed with the collector's key: kept without being shown. */
  sealed: Readonly<Record<string, string>>;
  errors: FieldErrors;
  notice?: { kind: NoticeKind; text: string } | undefined;
  tested?: TestOutcome | undefined;
}

/** A choice among `options`, or — once the check exists (a check does not move between agents or plugins) — its value, read-only. */
function FixedOrChoice(props: { name: string; label: string; value: string; options: readonly string[]; fixed: boolean; error: string | undefined }) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.fixed ? (
        <>
          <input type="text" id={id} value={props.value} readOnly />
          <input type="hidden" name={props.name} value={props.value} />
        </>
      ) : (
        <select id={id} name={props.name} {...invalid(id, props.error)}>
          <option value="">choose</option>
          {props.options.map((o) => (
            <option value={o} selected={o === props.value}>
              {o}
            </option>
          ))}
        </select>
      )}
      <ErrorOf id={id} error={props.error} />
    </div>
  );
}

function TestResult({ t }: { t: TestOutcome }) {
  return (
    <section class="card" aria-labelledby="tested" role="status">
      <h2 id="tested">
        Test run: <StatusBadge status={t.status} />
      </h2>
      <p class="summary">{t.summary}</p>
      <p class="muted">
        {t.reason ? `${t.reason} · ` : ''}
        {t.durationMs} ms · <Time ms={t.startedAt} /> · not saved: press Save to keep this check.
      </p>
      {t.metrics.length > 0 ? (
        <ul class="muted">
          {t.metrics.map((x) => (
            <li>
              {x.name}
              {labelText(x.labels)} = {x.value} {x.unit}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/**
 * A check's form: where it runs, what it is called and how often, and its plugin's config — the
 * fields made from the plugin's JSON Schema. "Test now" runs it on the agent without saving.
 */
export function CheckFormPage(m: CheckFormModel) {
  const v = m.values;
  const e = m.errors;
  const action = m.editing ? `/checks/${m.editing.id}/edit` : '/checks/new';
  const title = m.editing ? `Edit ${m.editing.name}` : 'Add a check';
  const plugin = m.plugins.find((p) => p.name === v.plugin);
  return (
    <Layout title={title} viewer={m.viewer} section="checks">
      <h1>{title}</h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.tested ? <TestResult t={m.tested} /> : null}
      <form class="check-form" method="post" action={action}>
        <CsrfField token={m.viewer?.csrf ?? ''} />
        <div class="row">
          <FixedOrChoice name="agent" label="Agent" value={v.agent} options={m.agents} fixed={!!m.editing} error={e['agent']} />
          <FixedOrChoice name="plugin" label="Plugin" value={v.plugin} options={m.plugins.map((p) => p.name)} fixed={!!m.editing} error={e['plugin']} />
          {m.editing ? null : (
            <button type="submit" class="secondary" name="action" value="choose" formnovalidate>
              Show its fields
            </button>
          )}
        </div>
        {plugin ? <p class="muted">{plugin.description}</p> : null}
        <div class="row">
          <div class="field wide">
            <label for="f-name">Name</label>
            <input type="text" id="f-name" name="name" value={v.name} {...invalid('f-name', e['name'])} />
            <ErrorOf id="f-name" error={e['name']} />
          </div>
          <div class="field">
            <label for="f-interval">
              Every<span class="hint">30s, 5m, 1h</span>
            </label>
            <input type="text" id="f-interval" name="interval" value={v.interval} {...invalid('f-interval', e['interval'])} />
            <ErrorOf id="f-interval" error={e['interval']} />
          </div>
          <div class="field">
            <label for="f-timeout">
              Timeout<span class="hint">10s</span>
            </label>
            <input type="text" id="f-timeout" name="timeout" value={v.timeout} {...invalid('f-timeout', e['timeout'])} />
            <ErrorOf id="f-timeout" error={e['timeout']} />
          </div>
        </div>
        <div class="check-field">
          <input type="hidden" name="enabled" value="false" />
          <label class="inline" for="f-enabled">
            <input type="checkbox" id="f-enabled" name="enabled" value="true" checked={v.enabled} /> Running (untick to pause)
          </label>
        </div>
        <div class="field">
          <label for="f-tags">
            Tags<span class="hint">key=value, one a line (site=north, modality=CT)</span>
          </label>
          <textarea id="f-tags" name="tags" rows={2} {...invalid('f-tags', e['tags'])}>
            {v.tags}
          </textarea>
          <ErrorOf id="f-tags" error={e['tags']} />
        </div>
        <div class="field">
          <label for="f-depends">
            Depends on<span class="hint">one a line: check:pacs-01/DICOM port or agent:router-01 — while one is down, this check raises no new alert</span>
          </label>
          <textarea id="f-depends" name="dependsOn" rows={2} {...invalid('f-depends', e['dependsOn'])}>
            {v.dependsOn}
          </textarea>
          <ErrorOf id="f-depends" error={e['dependsOn']} />
        </div>
        {m.fields.length > 0 ? (
          <fieldset class="config">
            <legend>{v.plugin} settings</legend>
            <SchemaFields fields={m.fields} values={m.config} errors={m.errors} secretsSet={m.secretsSet} sealed={m.sealed} />
            <ErrorOf id="f-config" error={e['config']} />
          </fieldset>
        ) : null}
        <div class="actions">
          <button type="submit" class="secondary" name="action" value="test" data-busy="Testing on the agent…">
            Test now
          </button>
          <button type="submit" name="action" value="save" data-busy="Saving…">
            Save
          </button>
          <a href={m.editing ? `/checks/${m.editing.id}` : '/checks'}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
