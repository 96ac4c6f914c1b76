import { validateWith } from '#rounds/plugins';
import { matchesTag, tagSelector, type Tags } from '../shared/tags.js';
import { formText } from './page-response.js';

/** The filters of the dashboard and the checks list, as typed (query parameters). */
export interface CheckFilter {
  q: string;
  agent: string;
  plugin: string;
  /** A status, `STALE`, `PROBLEM` (anything not OK), or '' for any. */
  state: string;
  /** `key=value` or `key`. */
  tag: string;
}

/** What a check is filtered on. */
export interface FilterableCheck {
  name: string;
  agentName: string;
  plugin: string;
  /** OK, WARNING, CRITICAL, UNKNOWN or PENDING (no result yet). */
  status: string;
  stale: boolean;
  tags: Tags;
}

export const FILTER_STATES = ['PROBLEM', 'OK', 'WARNING', 'CRITICAL', 'UNKNOWN', 'PENDING', 'STALE'] as const;

export function readCheckFilter(query: unknown): CheckFilter {
  return {
    q: formText(query, 'q', 200).trim(),
    agent: formText(query, 'agent', 100),
    plugin: formText(query, 'plugin', 100),
    state: formText(query, 'state', 20),
    tag: formText(query, 'tag', 300).trim(),
  };
}

/** The filter as a query string (empty fields left out), to link and page with. */
export function filterQuery(filter: object): string {
  return new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')).toString();
}

/**
 * A predicate for `filter`, or the tag field's error (a bad selector filters nothing out: the
 * page shows every check and says why beside the field).
 */
export function checkMatcher(filter: CheckFilter): { matches: (c: FilterableCheck) => boolean; tagError: string | undefined } {
  const tag = filter.tag === '' ? null : validateWith(tagSelector, filter.tag);
  const selector = tag?.ok ? tag.value : null;
  const needle = filter.q.toLowerCase();
  return {
    tagError: tag && !tag.ok ? (tag.errors[0]?.message ?? 'not a tag') : undefined,
    matches: (c) =>
      (needle === '' || c.name.toLowerCase().includes(needle)) &&
      (filter.agent === '' || c.agentName === filter.agent) &&
      (filter.plugin === '' || c.plugin === filter.plugin) &&
      (filter.state === '' || (filter.state === 'STALE' ? c.stale : filter.state === 'PROBLEM' ? c.status !== 'OK' || c.stale : c.status === filter.state)) &&
      (!selector || matchesTag(c.tags, selector)),
  };
}
