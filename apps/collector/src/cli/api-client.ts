import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FieldError } from '#rounds/plugins';
import { terminalSafe } from './table.js';

/** Where the commands send their calls, and where each part came from (for the messages). */
export interface ApiTarget {
  url: string;
  token: string;
  /** PEM certificates to trust instead of the system's CAs (`--ca`, ROUNDS_CA, a self-signed collector's own). */
  ca?: Buffer;
  /** Where each part came from, e.g. `--url`, `ROUNDS_TOKEN`, `/var/lib/rounds/cli-credentials.json`. */
  from: { url: string; token: string; ca?: string };
  /** Set when url and token came from the collector's credentials file. */
  credentialsFile?: string;
}

/** A refusal by the API: its RFC 9457 problem document, as sent. */
export class ApiProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: readonly FieldError[],
    /** The document as the API sent it (`--output json` prints it). */
    readonly body: unknown,
  ) {
    // Printed on a terminal: what the collector says (an agent's words among it) is made safe to show.
    super(terminalSafe(problemText(detail, errors)));
    this.name = 'ApiProblemError';
  }
}

/**
 * A problem on one line: `invalid check: intervalMs: …; timeoutMs: …`, or `name: <detail>` when the
 * one field error only repeats the detail (a 409 names its field that way).
 */
function problemText(detail: string, errors: readonly FieldError[]): string {
  const [only] = errors;
  if (errors.length === 1 && only!.message === detail) return only!.field ? `${only!.field}: ${detail}` : detail;
  if (errors.length === 0) return detail;
  return `${detail}: ${errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ')}`;
}

export interface ApiAnswer<T> {
  status: number;
  /** The parsed JSON body; undefined for 204. */
  body: T;
}

/** How long a collector may take to accept the connection; a check run may take minutes after that, the server bounds it. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The TLS verification failures that mean "this machine does not trust the certificate it was shown". */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * The operator commands' client of the collector's JSON API: one call at a time with the
 * target's bearer token, answers read as JSON, refusals as {@link ApiProblemError}, and every
 * failure to get an answer said in words with what to do. node:http(s) rather than fetch:
 * Node 20's fetch cannot be given a CA to trust without the undici package, and a
 * self-signed collector must be verifiable (verification is never turned off).
 */
export class ApiClient {
  private readonly base: URL;

  constructor(
    readonly target: ApiTarget,
    private readonly userAgent: string,
  ) {
    this.base = new URL(target.url);
  }

  call<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    // A collector behind a path prefix (a reverse proxy's /rounds/) keeps it.
    const url = new URL(`${this.base.origin}${this.base.pathname.replace(/\/+$/, '')}/api/v1${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      authorization: `Bearer ${this.target.token}`,
      'user-agent': this.userAgent,
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    };
    const https = url.protocol === 'https:';
    return new Promise<ApiAnswer<T>>((resolve, reject) => {
      let connected = false;
      // A connection of its own (agent: false): a command makes a call or two, and a reused socket would never "connect".
      const options = { method, headers, agent: false, ...(https && this.target.ca ? { ca: this.target.ca } : {}) };
      const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
        readAnswer<T>(res, this.describe()).then(resolve, reject);
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
      req.on('socket', (socket) =>
        socket.once(https ? 'secureConnect' : 'connect', () => {
          connected = true;
          clearTimeout(timer);
        }),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(this.unreachable(e, connected)));
      });
      req.on('close', () => clearTimeout(timer));
      req.end(payload);
    });
  }

  /** "http://127.0.0.1:8380 (from /var/lib/rounds/cli-credentials.json)". */
  private describe(): string {
    return `${this.target.url} (from ${this.target.from.url})`;
  }

  /** Why no answer came, in words, with what to do. */
  private unreachable(e: NodeJS.ErrnoException, connected: boolean): string {
    const at = this.target.url;
    const fromFile = this.target.credentialsFile ? ` — the address is from ${this.target.credentialsFile}, written at the collector's last start` : '';
    const code = e.code ?? '';
    if (UNTRUSTED.has(code)) {
      return (
        `the collector at ${at} shows a certificate this machine does not trust (${code}) — give its certificate with --ca <file> or ROUNDS_CA ` +
        '(a self-signed collector has it in <data dir>/tls/collector.crt: compare its SHA-256 fingerprint with the one the collector logs at start); ' +
        'certificate checks are never turned off'
      );
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return `the certificate of the collector at ${at} is not for ${this.base.hostname} — use a --url with a name it was made for (ROUNDS_TLS_NAMES adds names to a self-signed one)`;
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
      return `the certificate of the collector at ${at} is not valid now (${code}) — renew it on the collector`;
    }
    if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/.test(e.message)) {
      return `${at} does not answer HTTPS — is the collector serving plain HTTP? Use http:// in the URL`;
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return `no collector answers at ${at}: the host name ${this.base.hostname} is not found (DNS) — check the URL${fromFile}`;
    if (connected && (code === 'ECONNRESET' || /socket hang up/.test(e.message))) {
      return `the collector at ${at} hung up without answering — if it serves HTTPS, use https:// in the URL${fromFile}`;
    }
    const why = code === 'ETIMEDOUT' ? `no connection within ${CONNECT_TIMEOUT_MS / 1000} s` : code || e.message;
    return `no collector answers at ${at}: is it running (rounds-collector start)? (${why})${fromFile}`;
  }
}

/** The answer as JSON; a refusal as an ApiProblemError; something that is not the collector's API said so. */
async function readAnswer<T>(res: IncomingMessage, where: string): Promise<ApiAnswer<T>> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res) chunks.push(chunk as Buffer);
  } catch (e) {
    throw new Error(`${where} broke off its answer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) — try again`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  // A proxy sending http:// on to https://, or a moved address: the URL to give instead.
  if (status >= 300 && status < 400 && location) throw new Error(`${where} redirects to ${location} — give that address as the URL`);
  const type = res.headers['content-type'] ?? '';
  let body: unknown;
  if (text !== '') {
    if (!/json/.test(type))
      throw new Error(`${where} answered ${status} with ${type || 'no content type'}, not the collector's JSON API — is the URL the collector's?`);
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${where} answered ${status} with malformed JSON — is the URL the collector's?`);
    }
  }
  if (status >= 400) {
    const problem = (body ?? {}) as { detail?: unknown; message?: unknown; errors?: unknown };
    const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.message === 'string' ? problem.message : `HTTP ${status}`;
    const errors = Array.isArray(problem.errors)
      ? problem.errors.filter((e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).message === 'string')
      : [];
    throw new ApiProblemError(status, detail, errors, body);
  }
  return { status, body: body as T };
}
