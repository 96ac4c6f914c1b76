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

/** Every asset by its path. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([UPLOT_SCRIPT, UPLOT_STYLESHEET, CHART].map((a) => [a.path, a]));
