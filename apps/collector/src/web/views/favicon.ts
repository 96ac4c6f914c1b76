import { createHash } from 'node:crypto';

/**
 * The tab icon: a pulse line on the header's colour, so a Rounds tab is found among the PACS
 * viewer's. Served by the collector (no internet) and named in every page, so browsers do not ask
 * for /favicon.ico and log a 404.
 */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2430"/>' +
  '<path d="M4 17h6l3-7 5 13 3-6h7" fill="none" stroke="#4caf50" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>';

export const FAVICON_PATH = `/assets/rounds.${createHash('sha256').update(FAVICON_SVG).digest('hex').slice(0, 12)}.svg`;
