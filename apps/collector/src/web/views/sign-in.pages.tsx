import { CsrfField, Field, Layout, Notice, type FieldErrors } from './layout.js';

/** The sign-in form. `next`: where to go afterwards (a local path, checked by the controller). */
export function SignInPage(props: { next: string; name?: string; error?: string; notice?: string }) {
  return (
    <Layout title="Sign in" narrow>
      <h1>Sign in</h1>
      {props.notice ? <Notice kind="info">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form class="stack" method="post" action="/sign-in">
        <input type="hidden" name="next" value={props.next} />
        <Field label="User name" name="name" value={props.name} autocomplete="username" autofocus={!props.name} />
        <Field label="Password" name="password" type="password" autocomplete="current-password" autofocus={Boolean(props.name)} />
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">
        Forgot the password? The collector's operator can run <code>rounds-collector user reset-password NAME</code>.
      </p>
    </Layout>
  );
}

/** The second step for a user with two-factor: a code from the app, or a backup code. */
export function SecondFactorPage(props: { csrf: string; error?: string }) {
  return (
    <Layout title="Two-factor code" narrow>
      <h1>Two-factor code</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form class="stack" method="post" action="/sign-in/two-factor">
        <CsrfField token={props.csrf} />
        <Field
          label="Code"
          name="code"
          hint="The 6 digits your authenticator app shows for Rounds, or one of your backup codes."
          autocomplete="one-time-code"
          autofocus
        />
        <button type="submit">Continue</button>
      </form>
      <CancelSignIn csrf={props.csrf} />
    </Layout>
  );
}

/** The forced password change (a password someone else set or generated), before anything else. */
export function ChangePasswordStepPage(props: { csrf: string; errors?: FieldErrors }) {
  return (
    <Layout title="Choose a password" narrow>
      <h1>Choose your password</h1>
      <Notice kind="info">Your password was set by someone else or generated: choose your own before going on.</Notice>
      <form class="stack" method="post" action="/sign-in/password">
        <CsrfField token={props.csrf} />
        <NewPasswordFields errors={props.errors} autofocus />
        <button type="submit">Save and continue</button>
      </form>
      <CancelSignIn csrf={props.csrf} />
    </Layout>
  );
}

/** New password twice, with the policy in the hint. */
export function NewPasswordFields({ errors, autofocus }: { errors?: FieldErrors | undefined; autofocus?: boolean }) {
  return (
    <>
      <Field
        label="New password"
        name="password"
        type="password"
        autocomplete="new-password"
        hint="At least 12 characters, not your user name, not a commonly used password."
        error={errors?.password}
        autofocus={autofocus}
      />
      <Field label="New password again" name="confirm" type="password" autocomplete="new-password" error={errors?.confirm} />
    </>
  );
}

/** Setting up two-factor: the QR code, the key to type instead, and the code that proves it works. */
export function EnrolPage(props: {
  csrf: string;
  qrSvgDataUri: string;
  secret: string;
  action: string;
  required: boolean;
  error?: string;
  signedIn?: Parameters<typeof Layout>[0]['viewer'];
}) {
  return (
    <Layout title="Set up two-factor sign-in" narrow={!props.signedIn} viewer={props.signedIn} section="account">
      <h1>Set up two-factor sign-in</h1>
      {props.required ? <Notice kind="info">Your role requires two-factor sign-in: set it up to go on.</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <ol>
        <li>In an authenticator app (FreeOTP, Aegis, Google or Microsoft Authenticator…), add an account by scanning this code:</li>
      </ol>
      <img class="qr" src={props.qrSvgDataUri} alt="QR code holding the two-factor key shown below" />
      <p>
        Or type this key: <span class="secret">{props.secret}</span>
      </p>
      <form class="stack" method="post" action={props.action}>
        <CsrfField token={props.csrf} />
        <Field
          label="Code from the app"
          name="code"
          hint="Enter the 6 digits the app now shows, to prove it works."
          autocomplete="one-time-code"
          inputmode="numeric"
          autofocus
        />
        <button type="submit">Turn on two-factor</button>
      </form>
      {props.signedIn ? null : <CancelSignIn csrf={props.csrf} />}
    </Layout>
  );
}

/** The backup codes, shown once after enrolment (only their hashes are kept). */
export function BackupCodesPage(props: { codes: readonly string[]; next: string; signedIn?: Parameters<typeof Layout>[0]['viewer'] }) {
  return (
    <Layout title="Backup codes" narrow={!props.signedIn} viewer={props.signedIn} section="account">
      <h1>Your backup codes</h1>
      <Notice kind="ok">Two-factor sign-in is on.</Notice>
      <p>
        Keep these {props.codes.length} codes somewhere safe, apart from your phone. Each signs you in once when the app is not at hand. They are shown{' '}
        <strong>only now</strong>.
      </p>
      <ol class="codes">
        {props.codes.map((c) => (
          <li>{c}</li>
        ))}
      </ol>
      <p>
        <a href={props.next}>I have saved them — continue</a>
      </p>
    </Layout>
  );
}

function CancelSignIn({ csrf }: { csrf: string }) {
  return (
    <form method="post" action="/sign-out">
      <CsrfField token={csrf} />
      <button class="secondary" type="submit">
        Cancel and sign out
      </button>
    </form>
  );
}
