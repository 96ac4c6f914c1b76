import { CsrfField, Field, Time, Layout, Notice, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';

export interface UsersPageUser {
  name: string;
  role: string;
  disabled: boolean;
  mustChangePassword: boolean;
  twoFactor: boolean;
  createdAt: number;
}

export interface UsersModel {
  viewer: Viewer;
  roles: readonly string[];
  users: UsersPageUser[];
  /** A password just generated (a new user, a reset): its only showing. */
  password?: { name: string; password: string } | undefined;
  errors?: FieldErrors | undefined;
  form?: { name?: string; role?: string } | undefined;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

/** Admins manage users: add, change role, disable, reset a password or two-factor. */
export function UsersPage(m: UsersModel) {
  const csrf = <CsrfField token={m.viewer.csrf} />;
  const act = (u: UsersPageUser, what: string, label: string, danger = false) => (
    <form class="inline" method="post" action={`/users/${encodeURIComponent(u.name)}/${what}`}>
      {csrf}
      <button class={danger ? 'danger' : 'secondary'} type="submit">
        {label}
      </button>
    </form>
  );
  return (
    <Layout title="Users" viewer={m.viewer} section="users">
      <h1>Users</h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.password ? (
        <Notice kind="ok">
          Password for “{m.password.name}” — give it to them; it is shown only this once and must be changed at their next sign-in:{' '}
          <span class="secret">{m.password.password}</span>
        </Notice>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>State</th>
            <th>Two-factor</th>
            <th>Created</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {m.users.map((u) => (
            <tr data-user={u.name}>
              <td>{u.name}</td>
              <td>
                <form class="inline" method="post" action={`/users/${encodeURIComponent(u.name)}/role`}>
                  {csrf}
                  <select name="role" aria-label={`role of ${u.name}`}>
                    {m.roles.map((r) => (
                      <option value={r} selected={r === u.role}>
                        {r}
                      </option>
                    ))}
                  </select>{' '}
                  <button class="secondary" type="submit">
                    Set
                  </button>
                </form>
              </td>
              <td>{u.disabled ? 'disabled' : u.mustChangePassword ? 'enabled, must change password' : 'enabled'}</td>
              <td>{u.twoFactor ? 'on' : 'off'}</td>
              <td>
                <Time ms={u.createdAt} />
              </td>
              <td class="actions">
                {u.disabled ? act(u, 'enable', 'Enable') : act(u, 'disable', 'Disable', true)}
                {act(u, 'reset-password', 'Reset password')}
                {u.twoFactor ? act(u, 'reset-2fa', 'Reset two-factor') : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <section class="card">
        <h2>Add a user</h2>
        <form class="stack" method="post" action="/users">
          {csrf}
          <Field label="Name" name="name" value={m.form?.name} hint="Letters, digits, dots, dashes, underscores or @." error={m.errors?.name} />
          <label>
            Role
            <select name="role">
              {m.roles.map((r) => (
                <option value={r} selected={r === (m.form?.role ?? 'viewer')}>
                  {r}
                </option>
              ))}
            </select>
            {m.errors?.role ? <span class="field-error">{m.errors.role}</span> : null}
          </label>
          <p class="muted">A password is generated and shown once; they choose their own at first sign-in.</p>
          <button type="submit">Add user</button>
        </form>
      </section>
    </Layout>
  );
}
