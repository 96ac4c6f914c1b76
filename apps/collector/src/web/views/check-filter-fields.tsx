import { FILTER_STATES, type CheckFilter } from '../check-filter.js';
import type { FieldErrors } from './layout.js';

/** A `<select>` of `options` with "any" (value '') first. */
function Choice({ name, value, options, label }: { name: string; value: string; options: readonly string[]; label: string }) {
  return (
    <label>
      {label}
      <select name={name}>
        <option value="">any</option>
        {options.map((o) => (
          <option value={o} selected={o === value}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The check filter's fields (search, agent, plugin, state, tag), the same on the dashboard and the checks list; a bad tag's error beside it. */
export function CheckFilterFields({
  filter,
  errors,
  agents,
  plugins,
}: {
  filter: CheckFilter;
  errors: FieldErrors;
  agents: readonly string[];
  plugins: readonly string[];
}) {
  const tagError = errors['tag'];
  return (
    <>
      <label>
        Name contains
        <input type="search" name="q" value={filter.q} />
      </label>
      <Choice name="agent" label="Agent" value={filter.agent} options={agents} />
      <Choice name="plugin" label="Plugin" value={filter.plugin} options={plugins} />
      <Choice name="state" label="State" value={filter.state} options={FILTER_STATES} />
      <label>
        Tag
        <span class="hint">key=value or key</span>
        <input type="text" name="tag" value={filter.tag} aria-invalid={tagError ? 'true' : undefined} aria-describedby={tagError ? 'tag-error' : undefined} />
        {tagError ? (
          <span class="field-error" id="tag-error">
            {tagError}
          </span>
        ) : null}
      </label>
    </>
  );
}
