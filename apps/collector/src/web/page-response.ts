import type { Request, Response } from 'express';
import type { VNode } from 'preact';
import type { FieldError } from '#rounds/plugins';
import { signedInOf, type SignedIn } from '../auth/access.guard.js';
import { principalOf } from './caller.decorator.js';
import { renderPage, type Viewer } from './views/layout.js';

/** Sends a rendered page; pages with a form or a secret are never cached. */
export function sendPage(response: Response, page: VNode, status = 200): void {
  response.status(status).setHeader('Cache-Control', 'no-store');
  response.type('html').send(renderPage(page));
}

export function viewerOf({ session, principal }: SignedIn): Viewer {
  return { name: principal.name, role: principal.role, csrf: session.csrfToken };
}

/** Who looks at a page: a signed-in user, or an API token's owner (no session, hence no sign-out form). */
export function pageViewer(req: Request): Viewer | undefined {
  const signedIn = signedInOf(req);
  if (signedIn) return viewerOf(signedIn);
  const principal = principalOf(req);
  return principal ? { name: principal.name, role: principal.role, csrf: '' } : undefined;
}

/**
 * A local path to go to after signing in, or `/`: never another site (`//evil`, `/\evil`,
 * `https://…`), so the sign-in form cannot be made into an open redirect.
 */
export function localPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && next.length <= 500 ? next : '/';
}

/** A form's text field: '' when absent or not text (a form posts strings only). */
export function formText(body: unknown, name: string, max = 1000): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value.slice(0, max) : '';
}

/**
 * The first error of each form field, to show beside it: a nested field's (`matchers.2`) beside
 * its top-level field (the list), an error naming no field beside `fallback`.
 */
export function errorsByField(errors: readonly FieldError[], fallback: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) out[e.field.split('.')[0] || fallback] ??= e.message;
  return out;
}
