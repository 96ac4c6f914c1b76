import type { CheckFilter } from '../check-filter.js';
import { CheckFilterFields } from './check-filter-fields.js';
import type { FieldErrors } from './layout.js';

/** The dashboard's query: the check filter and how to group. */
export interface DashboardQuery extends CheckFilter {
  /** '', `agent`, `plugin` or `tag:KEY`. */
  group: string;
}

/**
 * Search, filters and grouping. A plain GET form (it works without JavaScript); with it, htmx
 * fetches the page for each change and swaps in just its board, keeping the address in step.
 */
export function DashboardControls(props: { query: DashboardQuery; errors: FieldErrors; agents: string[]; plugins: string[]; tagKeys: string[] }) {
  const q = props.query;
  const groupError = props.errors['group'];
  return (
    <form
      class="report-filter"
      method="get"
      action="/"
      role="search"
      hx-get="/"
      hx-trigger="change, keyup changed delay:400ms from:input[type=search]"
      hx-select="#board"
      hx-target="#board"
      hx-swap="outerHTML"
      hx-push-url="true"
    >
      <CheckFilterFields filter={q} errors={props.errors} agents={props.agents} plugins={props.plugins} />
      <label>
        Group by
        <select name="group" aria-invalid={groupError ? 'true' : undefined} aria-describedby={groupError ? 'group-error' : undefined}>
          <option value="">nothing</option>
          {['agent', 'plugin', ...props.tagKeys.map((k) => `tag:${k}`)].map((g) => (
            <option value={g} selected={g === q.group}>
              {g.startsWith('tag:') ? `tag ${g.slice(4)}` : g}
            </option>
          ))}
        </select>
        {groupError ? (
          <span class="field-error" id="group-error">
            {groupError}
          </span>
        ) : null}
      </label>
      <button type="submit">Show</button>
    </form>
  );
}
