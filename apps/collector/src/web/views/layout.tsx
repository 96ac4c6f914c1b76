import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { UserRole } from '../../users/user.entity.js';
import { FAVICON_PATH } from './favicon.js';
import { STYLESHEET_PATH } from './stylesheet.js';
import { FORM_PROGRESS, LOCAL_TIME } from '../assets.js';

/** Who is looking at a page, for the header: their name, role, and the session's CSRF token for the sign-out form. */
export interface Viewer {
  name: string;
  role: UserRole;
  csrf: string;
}

type Section = 'status' | 'checks' | 'agents' | 'alerts' | 'maintenance' | 'on-call' | 'channels' | 'reports' | 'users' | 'audit' | 'settings' | 'account';

/** The hidden field every form of a signed-in page carries (the access guard checks it). */
export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** A button that posts to `action` (with the session's CSRF token): an action on a row or a page. */
export function PostButton(props: { action: string; csrf: string; kind?: 'secondary' | 'danger'; busy?: string; children: ComponentChildren }) {
  const { action, csrf, kind, busy, children } = props;
  return (
    <form class="inline" method="post" action={action}>
      <CsrfField token={csrf} />
      <button type="submit" class={kind} data-busy={busy}>
        {children}
      </button>
    </form>
  );
}

export function Layout(props: {
  title: string;
  viewer?: Viewer | undefined;
  section?: Section;
  narrow?: boolean;
  /** Reload every so many seconds when scripts do not run (pages that are live through htmx otherwise). */
  refreshWithoutScriptSeconds?: number;
  /** Extra files the page needs (views/assets.ts paths): stylesheets, and scripts run deferred. */
  assets?: { stylesheets?: string[]; scripts?: string[] };
  children: ComponentChildren;
}) {
  const { viewer, section } = props;
  const link = (href: string, name: Section, text: string) => (
    <a href={href} aria-current={section === name ? 'page' : undefined}>
      {text}
    </a>
  );
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        {props.refreshWithoutScriptSeconds ? (
          <noscript>
            <meta http-equiv="refresh" content={String(props.refreshWithoutScriptSeconds)} />
          </noscript>
        ) : null}
        {/* htmx would insert a <style> (refused by the CSP) and may evaluate attribute code: neither is wanted. */}
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} — Rounds`}</title>
        <link rel="stylesheet" href={STYLESHEET_PATH} />
        <link rel="icon" type="image/svg+xml" href={FAVICON_PATH} />
        {props.assets?.stylesheets?.map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        <script src={LOCAL_TIME.path} defer />
        <script src={FORM_PROGRESS.path} defer />
        {props.assets?.scripts?.map((src) => (
          <script src={src} defer />
        ))}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            Rounds
          </a>
          {viewer ? (
            <nav aria-label="main">
              {link('/', 'status', 'Status')}
              {link('/checks', 'checks', 'Checks')}
              {link('/agents', 'agents', 'Agents')}
              {link('/alerts', 'alerts', 'Alerts')}
              {link('/maintenance', 'maintenance', 'Maintenance')}
              {link('/on-call', 'on-call', 'On call')}
              {link('/channels', 'channels', 'Channels')}
              {link('/reports/sla', 'reports', 'Reports')}
              {viewer.role === 'admin' ? link('/users', 'users', 'Users') : null}
              {viewer.role === 'admin' ? link('/audit', 'audit', 'Audit log') : null}
              {viewer.role === 'admin' ? link('/settings', 'settings', 'Settings') : null}
              <span class="who">
                {link('/account', 'account', `${viewer.name} (${viewer.role})`)}
                <form class="inline" method="post" action="/sign-out">
                  <CsrfField token={viewer.csrf} />
                  <button type="submit">Sign out</button>
                </form>
              </span>
            </nav>
          ) : null}
        </header>
        <main class={props.narrow ? 'narrow' : undefined}>{props.children}</main>
      </body>
    </html>
  );
}

export type NoticeKind = 'error' | 'ok' | 'info';

export function Notice({ kind, children }: { kind: NoticeKind; children: ComponentChildren }) {
  return (
    <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

/** A labelled input with its hint and its error beside it (linked for screen readers). */
export function Field(props: {
  label: string;
  name: string;
  type?: 'text' | 'password';
  value?: string;
  error?: string | undefined;
  hint?: string;
  autocomplete?: string;
  inputmode?: 'numeric' | 'text';
  required?: boolean;
  autofocus?: boolean;
}) {
  const errorId = `${props.name}-error`;
  const attrs = {
    name: props.name,
    value: props.value,
    autocomplete: props.autocomplete,
    required: props.required ?? true,
    autofocus: props.autofocus,
    'aria-invalid': props.error ? ('true' as const) : undefined,
    'aria-describedby': props.error ? errorId : undefined,
  };
  return (
    <label>
      {props.label}
      {props.hint ? <span class="hint">{props.hint}</span> : null}
      {props.type === 'password' ? <input type="password" {...attrs} /> : <input type="text" inputMode={props.inputmode} {...attrs} />}
      {props.error ? (
        <span class="field-error" id={errorId}>
          {props.error}
        </span>
      ) : null}
    </label>
  );
}

/** `2026-12-03 09:15 UTC`: one unambiguous form for every time a page shows. */
export function formatTime(ms: number | null): string {
  if (ms === null) return 'never';
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A time as the page shows it: UTC text (what a page without JavaScript shows), in a `<time>`
 * element the local-time script rewrites in the viewer's own time zone.
 */
export function Time({ ms }: { ms: number | null }) {
  if (ms === null) return <>never</>;
  return <time datetime={new Date(ms).toISOString()}>{formatTime(ms)}</time>;
}

/** Field errors by field name, as the pages show them. */
export type FieldErrors = Partial<Record<string, string>>;

/** A whole page as the bytes to send. */
export function renderPage(page: preact.VNode): string {
  return `<!doctype html>${renderToString(page)}`;
}

const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, selfRequestsOnly: true });

const CONTENT_MARK = '\u0000content\u0000';

/**
 * The layout around content rendered elsewhere (and cached apart from who looks at it, like the
 * status page's): the bytes before and after the content.
 */
export function layoutShell(props: Omit<Parameters<typeof Layout>[0], 'children'>): { head: string; tail: string } {
  const page = renderPage(<Layout {...props}>{CONTENT_MARK}</Layout>);
  const at = page.indexOf(CONTENT_MARK);
  return { head: page.slice(0, at), tail: page.slice(at + CONTENT_MARK.length) };
}
