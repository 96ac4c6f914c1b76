import { CHANNEL_TYPES, type ChannelType } from '../../notifications/channel-config.js';
import type { ChannelView, DeliveryView, TestResult } from '../../notifications/channels.service.js';
import { CsrfField, Layout, Notice, Time, type NoticeKind, type Viewer } from './layout.js';
import { ErrorOf, invalid, SchemaFields, type SchemaFieldsModel } from './schema-fields.js';

/** A channel's form: its name, whether it sends, and its type's settings made from the type's JSON Schema. */
export interface ChannelFormModel extends SchemaFieldsModel {
  type: ChannelType;
  name: string;
  /** Disabled channels are kept but sent nothing. */
  enabled: boolean;
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

/** A scalar as text; '' for anything else (never "[object Object]"). */
function scalarText(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
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

function ChannelForm(props: { form: ChannelFormModel; csrf: string; action: string; submit: string }) {
  const f = props.form;
  return (
    <form class="stack" method="post" action={props.action}>
      <CsrfField token={props.csrf} />
      <input type="hidden" name="type" value={f.type} />
      <div class="field">
        <label for="f-name">
          <span>
            Name<abbr title="required"> *</abbr>
          </span>
        </label>
        <input type="text" id="f-name" name="name" value={f.name} {...invalid('f-name', f.errors['name'])} />
        <ErrorOf id="f-name" error={f.errors['name']} />
      </div>
      <div class="field">
        <label for="f-enabled">Sends alerts</label>
        <select id="f-enabled" name="enabled">
          <option value="true" selected={f.enabled}>
            yes
          </option>
          <option value="false" selected={!f.enabled}>
            no (disabled: kept, sends nothing)
          </option>
        </select>
      </div>
      <SchemaFields fields={f.fields} values={f.values} errors={f.errors} secretsSet={f.secretsSet} />
      <ErrorOf id="f-config" error={f.errors['config']} />
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
            <ChannelForm form={m.form} csrf={m.viewer.csrf} action={base} submit="Save" />
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
