import type { FormField } from '../schema-form.js';
import type { FieldErrors } from './layout.js';

/** A field's error beside it, with the id its input's `aria-describedby` names. */
export function ErrorOf({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <span class="field-error" id={`${id}-error`}>
      {error}
    </span>
  ) : null;
}

/** An input's attributes when its field has an error: marked invalid and pointing at the error. */
export const invalid = (id: string, error: string | undefined) => (error ? { 'aria-invalid': 'true' as const, 'aria-describedby': `${id}-error` } : {});

/**
 * A labelled one-line input of a hand-made form (maintenance windows, silences): its hint, and its
 * error beside it as `<errorId>-error` that the input points at.
 */
export function TextField(props: {
  label: string;
  name: string;
  value: string;
  error: string | undefined;
  errorId: string;
  hint?: string | undefined;
  type?: 'text' | 'datetime-local' | 'time';
}) {
  const attrs = { name: props.name, value: props.value, ...invalid(props.errorId, props.error) };
  return (
    <label>
      {props.label}
      {props.hint ? <span class="hint">{props.hint}</span> : null}
      {/* One element per type: preact's types tie an input's other attributes to its type. */}
      {props.type === 'datetime-local' ? (
        <input type="datetime-local" {...attrs} />
      ) : props.type === 'time' ? (
        <input type="time" {...attrs} />
      ) : (
        <input type="text" {...attrs} />
      )}
      <ErrorOf id={props.errorId} error={props.error} />
    </label>
  );
}

/** An id for a field from its name (`config.tls.caFile` → `f-config-tls-caFile`): labels and errors point at it. */
const idOf = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** What a form made from a JSON Schema shows (schema-form.ts): its fields, what they hold, their errors. */
export interface SchemaFieldsModel {
  fields: readonly FormField[];
  /** Field name → text as typed or stored; never a secret's. */
  values: Readonly<Record<string, string>>;
  errors: FieldErrors;
  /** Write-only fields with a value stored (or typed before a test): "set — leave empty to keep". */
  secretsSet: ReadonlySet<string>;
  /** Secrets typed before "test now", sealed with the collector's key: kept without being shown. */
  sealed?: Readonly<Record<string, string>>;
}

/**
 * The inputs of a form made from a JSON Schema — a check's plugin config, a notification
 * channel's settings — each with its label, hint and error beside it, so a field looks and
 * reads the same on every form. A secret is never put in the page.
 */
export function SchemaFields(m: SchemaFieldsModel) {
  return (
    <>
      {m.fields.map((f) => (
        <SchemaField f={f} m={m} />
      ))}
    </>
  );
}

function SchemaField({ f, m }: { f: FormField; m: SchemaFieldsModel }) {
  const id = idOf(f.name);
  const error = m.errors[f.name];
  const hint = [f.description, f.defaultText !== null ? `default: ${f.defaultText}` : ''].filter((t) => t !== '').join(' — ');
  if (f.kind === 'group') {
    return (
      <fieldset class="config-group">
        <legend>{f.label}</legend>
        {f.description ? <p class="hint">{f.description}</p> : null}
        {f.fields.map((inner) => (
          <SchemaField f={inner} m={m} />
        ))}
        <ErrorOf id={id} error={error} />
      </fieldset>
    );
  }
  const value = f.secret ? '' : (m.values[f.name] ?? '');
  const label = (
    <>
      <span>
        {f.label}
        {f.required ? <abbr title="required"> *</abbr> : null}
      </span>
      {hint ? <span class="hint">{hint}</span> : null}
    </>
  );
  if (f.kind === 'boolean') {
    const checked = value === '' ? f.defaultText === 'true' : value === 'true';
    return (
      <div class="check-field">
        {/* An unchecked box sends nothing: the hidden "false" before it is what arrives then. */}
        <input type="hidden" name={f.name} value="false" />
        <label class="inline" for={id}>
          <input type="checkbox" id={id} name={f.name} value="true" checked={checked} {...invalid(id, error)} /> {f.label}
        </label>
        {f.description ? <span class="hint">{f.description}</span> : null}
        <ErrorOf id={id} error={error} />
      </div>
    );
  }
  const set = f.secret && m.secretsSet.has(f.name) ? 'set — leave empty to keep' : '';
  const sealed = f.secret && m.sealed?.[f.name] ? <input type="hidden" name={`sealed:${f.name}`} value={m.sealed[f.name]} /> : null;
  let input;
  if (f.kind === 'select') {
    input = (
      <select id={id} name={f.name} {...invalid(id, error)}>
        <option value="">{f.defaultText !== null ? `default (${f.defaultText})` : 'choose'}</option>
        {f.options.map((o) => (
          <option value={o} selected={o === value}>
            {o}
          </option>
        ))}
      </select>
    );
  } else if (f.kind === 'secret') {
    input = <input type="password" id={id} name={f.name} value="" autocomplete="new-password" placeholder={set} {...invalid(id, error)} />;
  } else if (f.kind === 'lines' || f.kind === 'pairs' || f.kind === 'json') {
    const help = f.kind === 'lines' ? 'one a line' : f.kind === 'pairs' ? 'one "Name: value" a line' : 'JSON';
    input = (
      <>
        <span class="hint">{help}</span>
        {f.secret ? (
          // Write-only (a webhook's header values): empty, whatever is stored.
          <textarea id={id} name={f.name} rows={2} autocomplete="off" placeholder={set} {...invalid(id, error)} />
        ) : (
          <textarea id={id} name={f.name} rows={f.kind === 'json' ? 5 : 3} {...invalid(id, error)}>
            {value}
          </textarea>
        )}
      </>
    );
  } else if (f.kind === 'multiline') {
    input = (
      <textarea id={id} name={f.name} rows={6} {...invalid(id, error)}>
        {value}
      </textarea>
    );
  } else {
    input = (
      <input
        type="text"
        id={id}
        name={f.name}
        value={value}
        inputMode={f.kind === 'number' || f.kind === 'integer' ? 'decimal' : undefined}
        {...invalid(id, error)}
      />
    );
  }
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {input}
      {sealed}
      <ErrorOf id={id} error={error} />
    </div>
  );
}
