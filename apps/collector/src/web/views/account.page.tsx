import { CsrfField, Field, Time, Layout, Notice, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';
import { NewPasswordFields } from './sign-in.pages.js';

export interface AccountSession {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  address: string | null;
  userAgent: string | null;
  current: boolean;
}

export interface AccountToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  state: string;
}

export interface AccountModel {
  viewer: Viewer;
  twoFactor: boolean;
  backupCodesLeft: number;
  sessions: AccountSession[];
  tokens: AccountToken[];
  /** A token just created: its only showing. */
  newToken?: { name: string; token: string } | undefined;
  passwordErrors?: FieldErrors | undefined;
  tokenErrors?: FieldErrors | undefined;
  tokenName?: string | undefined;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

/** The signed-in user's own account: password, two-factor, sessions and API tokens. */
export function AccountPage(m: AccountModel) {
  const csrf = <CsrfField token={m.viewer.csrf} />;
  const others = m.sessions.filter((s) => !s.current).length;
  return (
    <Layout title="Account" viewer={m.viewer} section="account">
      <h1>
        Account: {m.viewer.name} <span class="muted">({m.viewer.role})</span>
      </h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}

      <section class="card" id="password">
        <h2>Password</h2>
        <form class="stack" method="post" action="/account/password">
          {csrf}
          <Field label="Current password" name="current" type="password" autocomplete="current-password" error={m.passwordErrors?.current} />
          <NewPasswordFields errors={m.passwordErrors} />
          <button type="submit">Change password</button>
        </form>
      </section>

      <section class="card" id="two-factor">
        <h2>Two-factor sign-in</h2>
        {m.twoFactor ? (
          <>
            <p>
              On. {m.backupCodesLeft} backup {m.backupCodesLeft === 1 ? 'code' : 'codes'} left.
            </p>
            <form method="post" action="/account/backup-codes">
              {csrf}
              <button class="secondary" type="submit">
                Make new backup codes
              </button>
            </form>
          </>
        ) : (
          <>
            <p>Off: a password alone signs you in. Turn it on to ask for a code from an authenticator app as well.</p>
            <form method="post" action="/account/two-factor">
              {csrf}
              <button type="submit">Set up two-factor sign-in</button>
            </form>
          </>
        )}
      </section>

      <section class="card" id="sessions">
        <h2>Where you are signed in</h2>
        <table>
          <thead>
            <tr>
              <th>Signed in</th>
              <th>Last active</th>
              <th>From</th>
              <th>Browser</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {m.sessions.map((s) => (
              <tr>
                <td>
                  <Time ms={s.createdAt} />
                </td>
                <td>
                  <Time ms={s.lastSeenAt} />
                </td>
                <td>{s.address ?? ''}</td>
                <td class="summary">{s.userAgent ?? ''}</td>
                <td>
                  {s.current ? (
                    <strong>this session</strong>
                  ) : (
                    <form class="inline" method="post" action={`/account/sessions/${s.id}/end`}>
                      {csrf}
                      <button class="danger" type="submit">
                        Sign out
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {others > 0 ? (
          <form method="post" action="/account/sessions/end-others">
            {csrf}
            <button class="danger" type="submit">
              Sign out everywhere else ({others})
            </button>
          </form>
        ) : null}
      </section>

      <section class="card" id="tokens">
        <h2>API tokens</h2>
        <p class="muted">
          For scripts and tools calling the JSON API as you (<code>Authorization: Bearer …</code>), with your role.
        </p>
        {m.newToken ? (
          <Notice kind="ok">
            Token “{m.newToken.name}” created. Copy it now — it is shown only this once: <span class="secret">{m.newToken.token}</span>
          </Notice>
        ) : null}
        {m.tokens.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Starts with</th>
                <th>Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>State</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {m.tokens.map((t) => (
                <tr>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>
                    <Time ms={t.createdAt} />
                  </td>
                  <td>
                    <Time ms={t.expiresAt} />
                  </td>
                  <td>
                    <Time ms={t.lastUsedAt} />
                  </td>
                  <td>{t.state}</td>
                  <td>
                    {t.state === 'active' ? (
                      <form class="inline" method="post" action={`/account/tokens/${t.id}/revoke`}>
                        {csrf}
                        <button class="danger" type="submit">
                          Revoke
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>No tokens yet.</p>
        )}
        <form class="stack" method="post" action="/account/tokens">
          {csrf}
          <Field label="Name" name="name" value={m.tokenName} hint="What uses it, e.g. grafana or backup-script." error={m.tokenErrors?.name} />
          <Field label="Expires after" name="expiresIn" required={false} hint="e.g. 90d or 12h; empty: never." error={m.tokenErrors?.expiresIn} />
          <button type="submit">Create token</button>
        </form>
      </section>
    </Layout>
  );
}
