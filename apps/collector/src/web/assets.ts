import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CHART_SCRIPT } from './views/chart.script.js';

/** A file the collector serves itself (hospital networks are often offline: no CDN), at a path naming its content. */
export interface Asset {
  path: string;
  type: string;
  body: string;
}

function asset(name: string, extension: 'js' | 'css', body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/assets/${name}.${hash}.${extension}`, type: extension === 'js' ? 'text/javascript' : 'text/css', body };
}

const vendored = (file: string) => readFileSync(createRequire(import.meta.url).resolve(file), 'utf8');

/** uPlot (MIT; small, fast with thousands of points, no dependencies): the charts. */
export const UPLOT_SCRIPT = asset('uplot', 'js', vendored('uplot/dist/uPlot.iife.min.js'));
export const UPLOT_STYLESHEET = asset('uplot', 'css', vendored('uplot/dist/uPlot.min.css'));
export const CHART = asset('chart', 'js', CHART_SCRIPT);
/** On every page: times in the viewer's own time zone (pages say UTC without it), and range forms set to it. */
export const LOCAL_TIME = asset(
  'local-time',
  'js',
  `(() => {
  'use strict';
  const shown = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
  for (const el of document.querySelectorAll('time[datetime]')) {
    const at = new Date(el.getAttribute('datetime'));
    if (Number.isNaN(at.getTime())) continue;
    el.title = el.textContent;
    el.textContent = shown.format(at);
  }
  // A range form without a chosen zone: the viewer's own, and the range shown as its local times.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const two = (n) => String(n).padStart(2, '0');
  const local = (d) => d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + 'T' + two(d.getHours()) + ':' + two(d.getMinutes());
  for (const form of document.querySelectorAll('form[data-viewer-zone]')) {
    if (!zone || !form.elements.namedItem('tz')) continue;
    form.elements.namedItem('tz').value = zone;
    for (const input of form.querySelectorAll('input[data-at]')) input.value = local(new Date(Number(input.dataset.at)));
  }
})();
`,
);

/**
 * htmx 2 (BSD-0; progressive enhancement from attributes: no build step, no framework) and its
 * server-sent-events extension: the live dashboard. Configured by the layout's htmx-config meta
 * tag (no inline indicator styles, no eval) so the Content-Security-Policy holds.
 */
export const HTMX = asset('htmx', 'js', vendored('htmx.org/dist/htmx.min.js'));
export const HTMX_SSE = asset('htmx-sse', 'js', vendored('htmx-ext-sse/dist/sse.min.js'));

/**
 * On every page: a form that posts says it is at work — its button reads what it is doing
 * ("Testing on the agent…") and a second click does not post again. A test run or a delivery
 * may take as long as its timeout; the page must not look dead meanwhile. The button is not
 * disabled: a disabled button's name and value would drop out of what is posted.
 */
export const FORM_PROGRESS = asset(
  'form-progress',
  'js',
  `(() => {
  'use strict';
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== 'post') return;
    if (form.getAttribute('aria-busy') === 'true') { event.preventDefault(); return; }
    form.setAttribute('aria-busy', 'true');
    const button = event.submitter;
    if (button && button.dataset.busy) button.textContent = button.dataset.busy;
  });
  // Back from the browser's cache after leaving: the form is idle again.
  window.addEventListener('pageshow', () => {
    for (const form of document.querySelectorAll('form[aria-busy="true"]')) form.removeAttribute('aria-busy');
  });
})();
`,
);

/**
 * A list to enrol read from a file into its text box (`<input type=file data-fills=ID>`): the
 * file is read in the browser and posted as the text it holds, so the form stays a plain one
 * with its CSRF field. The field is hidden until this script shows it — without scripts, paste.
 */
export const CSV_FILE = asset(
  'csv-file',
  'js',
  `(() => {
  'use strict';
  for (const input of document.querySelectorAll('input[type=file][data-fills]')) {
    const target = document.getElementById(input.dataset.fills);
    if (!target) continue;
    const holder = input.closest('[data-needs-script]');
    if (holder) holder.hidden = false;
    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      if (file) file.text().then((text) => { target.value = text; target.focus(); });
    });
  }
})();
`,
);

/** Swagger UI (Apache-2.0): the viewer of the API's OpenAPI document at /api/docs. */
export const SWAGGER_UI_SCRIPT = asset('swagger-ui', 'js', vendored('swagger-ui-dist/swagger-ui-bundle.js'));
export const SWAGGER_UI_STYLESHEET = asset('swagger-ui', 'css', vendored('swagger-ui-dist/swagger-ui.css'));

/**
 * The UI's stylesheet styles every button as a dark one; inside Swagger UI that leaves its schema
 * names dark on dark. Reverted there (same specificity, loaded later), Swagger UI's own rules apply.
 */
export const API_DOCS_STYLESHEET = asset(
  'api-docs',
  'css',
  ':where(.swagger-ui) button{font:revert;padding:revert;border-radius:revert;border:revert;background:revert;color:revert;cursor:revert}\n',
);

/**
 * Starts Swagger UI on /api/docs' `#swagger-ui` (its own file: the CSP allows no inline script).
 * No validator badge (it would ask a server on the internet); a signed-in browser's changes
 * (not its reads) carry the session's CSRF token, as the UI's forms do — a token given by
 * Authorize needs none.
 */
export const API_DOCS = asset(
  'api-docs',
  'js',
  `(() => {
  'use strict';
  const root = document.getElementById('swagger-ui');
  if (!root || !window.SwaggerUIBundle) return;
  const csrf = root.dataset.csrf;
  window.SwaggerUIBundle({
    url: root.dataset.url,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    requestInterceptor: (request) => {
      if (csrf && !request.headers.Authorization && !/^(GET|HEAD)$/i.test(request.method)) request.headers['X-CSRF-Token'] = csrf;
      return request;
    },
  });
})();
`,
);

/** Every asset by its path. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map(
  [
    UPLOT_SCRIPT,
    UPLOT_STYLESHEET,
    CHART,
    LOCAL_TIME,
    FORM_PROGRESS,
    HTMX,
    HTMX_SSE,
    CSV_FILE,
    SWAGGER_UI_SCRIPT,
    SWAGGER_UI_STYLESHEET,
    API_DOCS_STYLESHEET,
    API_DOCS,
  ].map((a) => [a.path, a]),
);
