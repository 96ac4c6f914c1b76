import { CHANNEL_FORM_FIELDS, CHANNEL_TYPES, scalarText, secretIsSet, type ChannelField, type ChannelType } from '../../notifications/channel-form.js';
import type { ChannelView, DeliveryView, TestResult } from '../../notifications/channels.service.js';
import { CsrfField, Layout, Notice, Time, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';

export interface ChannelFormModel {
  type: ChannelType;
  name: string;
  /** Disabled channels are kept but sent nothing. */
  enabled: boolean;
  values: Record<string, string>;
  errors: FieldErrors;
}

export interface ChannelsModel {
  viewer: Viewer | undefined;
  channels: ChannelView[];
  canEdit: boolean;
  form: ChannelFormModel;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

export interface ChannelModel {
  viewer: Viewer | undefined;
  channel: ChannelView;
  deliveries: DeliveryView[];
  canEdit: boolean;
  canTest: boolean;
  confirmDelete: boolean;
  form: ChannelFormModel;
  test?: TestResult | undefined;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

/** Where a channel sends, in one line; secrets are already redacted in the view. */
function destination(c: ChannelView): string {
  const config = (c.config ?? {}) as Record<string, unknown>;
  switch (c.type) {
    case 'smtp':
      return `${Array.isArray(config['to']) ? config['to'].join(', ') : ''} via ${scalarText(config['host'])}`;
    case 'telegram':
      return `chat ${scalarText(config['chatId'])}`;
    case 'webhook':
      return 'webhook URL (kept secret)';
    case 'alertmanager':
      return scalarText(config['url']);
  }
}

function lastDelivery(c: ChannelView) {
  if (c.state === 'ok' && c.lastSuccessAt !== null)
    return (
      <>
        delivered <Time ms={c.lastSuccessAt} />
      </>
    );
  if (c.state === 'failing')
    return (
      <>
        failing since <Time ms={c.failingSince} />: {c.lastError ?? 'unknown error'}
      </>
    );
  return 'nothing sent yet';
}

function ConfigField({ field, form, stored }: { field: ChannelField; form: ChannelFormModel; stored: unknown }) {
  const error = form.errors[field.name];
  const id = `field-${field.name}`;
  const value = form.values[field.name] ?? '';
  const common = {
    name: field.name,
    id,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': error ? `${field.name}-error` : undefined,
  };
  const set = field.secret && stored !== undefined && secretIsSet(stored, field.name);
  const hint = [
    field.description,
    field.kind === 'lines' ? 'one a line' : field.kind === 'pairs' ? 'Name: value, one a line' : undefined,
    set ? 'set — leave empty to keep' : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  return (
    <label>
      {field.name}
      {field.required ? ' (required)' : ''}
      {hint ? <span class="hint">{hint}</span> : null}
      {field.kind === 'choice' || field.kind === 'boolean' ? (
        <select {...common}>
          {field.kind === 'boolean' ? null : <option value="">{field.defaultValue ? `default (${field.defaultValue})` : '—'}</option>}
          {(field.kind === 'boolean' ? ['true', 'false'] : field.choices).map((c) => (
            <option value={c} selected={(value || (field.kind === 'boolean' ? field.defaultValue : '')) === c}>
              {c}
            </option>
          ))}
        </select>
      ) : field.secret ? (
        field.kind === 'pairs' ? (
          <textarea {...common} rows={2} autocomplete="off" />
        ) : (
          <input type="password" {...common} autocomplete="new-password" />
        )
      ) : field.kind === 'lines' || field.kind === 'pairs' ? (
        <textarea {...common} rows={3}>
          {value}
        </textarea>
      ) : (
        <input type="text" {...common} value={value} placeholder={field.defaultValue} />
      )}
      {error ? (
        <span class="field-error" id={`${field.name}-error`}>
          {error}
        </span>
      ) : null}
    </label>
  );
}

function ChannelForm(props: { form: ChannelFormModel; csrf: string; action: string; submit: string; stored?: unknown }) {
  const f = props.form;
  return (
    <form class="stack" method="post" action={props.action}>
      <CsrfField token={props.csrf} />
      <input type="hidden" name="type" value={f.type} />
      <label>
        name (required)
        <input
          type="text"
          name="name"
          value={f.name}
          aria-invalid={f.errors['name'] ? 'true' : undefined}
          aria-describedby={f.errors['name'] ? 'name-error' : undefined}
        />
        {f.errors['name'] ? (
          <span class="field-error" id="name-error">
            {f.errors['name']}
          </span>
        ) : null}
      </label>
      <label>
        sends alerts
        <select name="enabled">
          <option value="true" selected={f.enabled}>
            yes
          </option>
          <option value="false" selected={!f.enabled}>
            no (disabled: kept, sends nothing)
          </option>
        </select>
      </label>
      {CHANNEL_FORM_FIELDS[f.type].map((field) => (
        <ConfigField field={field} form={f} stored={props.stored} />
      ))}
      <button type="submit">{props.submit}</button>
    </form>
  );
}

/** Notification channels: where alerts are sent. */
export function ChannelsPage(m: ChannelsModel) {
  return (
    <Layout title="Channels" viewer={m.viewer} section="channels">
      <h1>Notification channels</h1>
      <p class="muted">Alerts are sent to every enabled channel. Secrets (passwords, tokens, webhook URLs) are never shown.</p>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.channels.length === 0 ? (
        <p class="muted">No channels: nobody is notified of alerts.</p>
      ) : (
        <table class="channels">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Sends to</th>
              <th>Receives</th>
              <th>Last delivery</th>
            </tr>
          </thead>
          <tbody>
            {m.channels.map((c) => (
              <tr>
                <td>
                  <a href={`/channels/${encodeURIComponent(c.id)}`}>{c.name}</a>
                </td>
                <td>{c.type}</td>
                <td>{destination(c)}</td>
                <td>{c.enabled ? 'every alert' : 'nothing (disabled)'}</td>
                <td class="summary">{lastDelivery(c)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.canEdit && m.viewer ? (
        <section class="card">
          <h2>Add a channel</h2>
          <form class="stack" method="get" action="/channels">
            <label>
              Type
              <select name="type">
                {CHANNEL_TYPES.map((t) => (
                  <option value={t} selected={m.form.type === t}>
                    {t}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Choose</button>
          </form>
          <ChannelForm form={m.form} csrf={m.viewer.csrf} action="/channels" submit={`Add ${m.form.type} channel`} />
        </section>
      ) : null}
    </Layout>
  );
}

/** One channel: its settings, a test send with its outcome, recent deliveries. */
export function ChannelPage(m: ChannelModel) {
  const c = m.channel;
  const base = `/channels/${encodeURIComponent(c.id)}`;
  return (
    <Layout title={`Channel ${c.name}`} viewer={m.viewer} section="channels">
      <p>
        <a href="/channels">← Channels</a>
      </p>
      <h1>
        {c.name} <span class="muted">({c.type})</span>
      </h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.test ? (
        m.test.ok ? (
          <Notice kind="ok">Test delivered in {m.test.durationMs} ms: check that it arrived.</Notice>
        ) : (
          <Notice kind="error">
            Test not delivered: {m.test.error}. Correct the settings below (address, credentials) or the receiving side, then send another test.
          </Notice>
        )
      ) : null}
      <p>
        Sends to {destination(c)}. Last delivery: {lastDelivery(c)}.
      </p>
      {m.canTest && m.viewer ? (
        <form class="inline" method="post" action={`${base}/test`}>
          <CsrfField token={m.viewer.csrf} />
          <button type="submit" data-busy="Sending…">
            Send test
          </button>
        </form>
      ) : null}
      <h2>Recent deliveries</h2>
      {m.deliveries.length === 0 ? (
        <p class="muted">None yet (tests are not listed here).</p>
      ) : (
        <table class="deliveries">
          <thead>
            <tr>
              <th>Queued</th>
              <th>What</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {m.deliveries.map((d) => (
              <tr>
                <td>
                  <Time ms={d.createdAt} />
                </td>
                <td>{d.title ?? d.kind ?? d.key}</td>
                <td>{d.status === 'sent' ? 'delivered' : d.status === 'dead' ? 'gave up' : 'retrying'}</td>
                <td>{d.attempts}</td>
                <td class="summary">{d.lastError ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.canEdit && m.viewer ? (
        <>
          <section class="card">
            <h2>Edit</h2>
            <ChannelForm form={m.form} csrf={m.viewer.csrf} action={base} submit="Save" stored={c.config} />
          </section>
          <section class="card">
            <h2>Delete</h2>
            {m.confirmDelete ? (
              <form class="inline" method="post" action={`${base}/delete`}>
                <CsrfField token={m.viewer.csrf} />
                <span>Delete channel “{c.name}”? </span>
                <button type="submit" class="danger">
                  Yes, delete
                </button>{' '}
                <a href={base}>Cancel</a>
              </form>
            ) : (
              <a href={`${base}?confirm=delete`}>Delete this channel…</a>
            )}
          </section>
        </>
      ) : null}
    </Layout>
  );
}
