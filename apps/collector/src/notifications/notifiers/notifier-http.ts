import { NotifierError } from '../notifier.js';

export interface JsonResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: string;
}

/**
 * POSTs a body to an HTTP notifier endpoint. Errors name only the origin, never the path:
 * Telegram puts the bot token in it.
 */
export async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<JsonResponse> {
  const origin = new URL(url).origin;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal, redirect: 'error' });
  } catch (e) {
    if (signal.aborted) throw new NotifierError(`${origin} did not answer before the deadline`);
    throw new NotifierError(`cannot reach ${origin}: ${describeFetchError(e)}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    if (signal.aborted) throw new NotifierError(`${origin} did not finish its answer before the deadline`);
    throw new NotifierError(`${origin} broke off its answer: ${describeFetchError(e)}`);
  }
  return { status: res.status, statusText: res.statusText, headers: res.headers, body: text };
}

/** `Retry-After` in seconds (the only form these APIs use), as milliseconds. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = Number(headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
}

/** First 300 characters of an error body, on one line. */
export function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function describeFetchError(e: unknown): string {
  // undici wraps the socket error: "fetch failed" with the useful part in `cause`.
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused — is the service running and the URL right?';
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return 'host name not found (DNS)';
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message;
  return (e as Error).message ?? String(e);
}
