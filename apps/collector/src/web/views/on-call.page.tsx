import type { NowView, OverrideView, ScheduleView, TimelineView } from '../../on-call/on-call.service.js';
import type { OnCallSource } from '../../on-call/rotation.js';
import { CsrfField, Layout, Notice, PostButton, Time, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';
import { ErrorOf, invalid, TextField } from './schema-fields.js';

/** The add-override form as typed, shown again beside its errors under the schedule it was for. */
export interface OverrideForm {
  /** The schedule's id: which of the page's forms this is. */
  schedule: string;
  user: string;
  /** `datetime-local` values in the schedule's time zone. */
  start: string;
  end: string;
  comment: string;
}

export const EMPTY_OVERRIDE_FORM: OverrideForm = { schedule: '', user: '', start: '', end: '', comment: '' };

/** One schedule as the page shows it: who now, the shifts ahead, the overrides not over yet. */
export interface ScheduleSection {
  schedule: Pick<ScheduleView, 'id' | 'name' | 'timeZone'>;
  now: NowView;
  shifts: TimelineView['shifts'];
  overrides: OverrideView[];
  /** The users the rotations name, offered first in the form. */
  members: string[];
}

export interface OnCallModel {
  viewer: Viewer | undefined;
  schedules: ScheduleSection[];
  /** Everyone an override may name (enabled users); only filled in for those who may add one. */
  users: string[];
  canAct: boolean;
  form: OverrideForm;
  errors: FieldErrors;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

const SCHEDULES_ENDPOINT = 'POST /api/v1/on-call/schedules';

function why(source: OnCallSource): string {
  return 'rotation' in source ? source.rotation : 'override';
}

function People({ users }: { users: { name: string; source: OnCallSource }[] }) {
  if (users.length === 0) return <span class="muted">nobody</span>;
  return (
    <>
      {users.map((u, i) => (
        <>
          {i > 0 ? ', ' : null}
          <strong>{u.name}</strong> <span class="muted">({why(u.source)})</span>
        </>
      ))}
    </>
  );
}

function NowLine({ now }: { now: NowView }) {
  return (
    <p class="on-call-now">
      On call now: <People users={now.users} />
      {now.since !== null ? (
        <>
          {' '}
          — since <Time ms={now.since} />
        </>
      ) : null}
      {now.until !== null ? (
        <>
          {', '}
          until <Time ms={now.until} />
        </>
      ) : (
        <span class="muted"> — no change coming up</span>
      )}
    </p>
  );
}

function Shifts({ shifts }: { shifts: ScheduleSection['shifts'] }) {
  if (shifts.length === 0) return <p class="muted">No shifts in the next 7 days.</p>;
  return (
    <table class="shifts">
      <thead>
        <tr>
          <th>From</th>
          <th>To</th>
          <th>On call</th>
        </tr>
      </thead>
      <tbody>
        {shifts.map((s) => (
          <tr>
            <td>
              <Time ms={s.start} />
            </td>
            <td>
              <Time ms={s.end} />
            </td>
            <td>
              <People users={s.users} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Overrides({ s, m }: { s: ScheduleSection; m: OnCallModel }) {
  if (s.overrides.length === 0) return <p class="muted">No overrides ahead.</p>;
  return (
    <table class="overrides">
      <thead>
        <tr>
          <th>Who</th>
          <th>From</th>
          <th>To</th>
          <th>Comment</th>
          <th>Added by</th>
          {m.canAct ? <th /> : null}
        </tr>
      </thead>
      <tbody>
        {s.overrides.map((o) => (
          <tr>
            <td>{o.user}</td>
            <td>
              <Time ms={o.start} />
            </td>
            <td>
              <Time ms={o.end} />
            </td>
            <td class="summary">{o.comment ?? ''}</td>
            <td>{o.createdBy}</td>
            {m.canAct && m.viewer ? (
              <td>
                <PostButton
                  action={`/on-call/${encodeURIComponent(s.schedule.id)}/overrides/${encodeURIComponent(o.id)}/delete`}
                  csrf={m.viewer.csrf}
                  kind="danger"
                >
                  Remove
                </PostButton>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AddOverride({ s, m, viewer }: { s: ScheduleSection; m: OnCallModel; viewer: Viewer }) {
  // Only the form that was posted shows what was typed and its errors.
  const mine = m.form.schedule === s.schedule.id;
  const form = mine ? m.form : EMPTY_OVERRIDE_FORM;
  const errors = mine ? m.errors : {};
  // Ids unique on the page: every schedule has this form.
  const id = (field: string) => `override-${s.schedule.id}-${field}`;
  const members = s.members.filter((u) => m.users.includes(u));
  const others = m.users.filter((u) => !s.members.includes(u));
  const option = (name: string) => (
    <option value={name} selected={form.user === name}>
      {name}
    </option>
  );
  return (
    <details class="add-override" open={mine}>
      <summary>Add an override</summary>
      <form class="stack" method="post" action={`/on-call/${encodeURIComponent(s.schedule.id)}/overrides`}>
        <CsrfField token={viewer.csrf} />
        <label>
          Who
          <span class="hint">is on call instead of the rotations while the override lasts</span>
          <select name="user" {...invalid(id('user'), errors['user'])}>
            <option value="" selected={form.user === ''}>
              choose a user
            </option>
            {members.length > 0 ? <optgroup label="In the rotations">{members.map(option)}</optgroup> : null}
            {others.length > 0 ? <optgroup label="Other users">{others.map(option)}</optgroup> : null}
          </select>
          <ErrorOf id={id('user')} error={errors['user']} />
        </label>
        <TextField
          label="From"
          name="start"
          value={form.start}
          error={errors['start']}
          errorId={id('start')}
          type="datetime-local"
          hint={`in ${s.schedule.timeZone}`}
        />
        <TextField label="To" name="end" value={form.end} error={errors['end']} errorId={id('end')} type="datetime-local" hint={`in ${s.schedule.timeZone}`} />
        <TextField
          label="Comment"
          name="comment"
          value={form.comment}
          error={errors['comment']}
          errorId={id('comment')}
          hint="e.g. swapped with Sam, sick leave"
        />
        <button type="submit">Add override</button>
      </form>
    </details>
  );
}

/** On call: per schedule who is on call now, the week ahead and its overrides; admins add and remove overrides. */
export function OnCallPage(m: OnCallModel) {
  return (
    <Layout title="On call" viewer={m.viewer} section="on-call">
      <h1>On call</h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.schedules.length === 0 ? (
        <p class="muted">
          No on-call schedules yet. Schedules are created through the API with <code>{SCHEDULES_ENDPOINT}</code> — see the <a href="/api/docs">API docs</a>.
        </p>
      ) : (
        m.schedules.map((s) => (
          <section class="card on-call" aria-labelledby={`schedule-${s.schedule.id}`}>
            <h2 id={`schedule-${s.schedule.id}`}>{s.schedule.name}</h2>
            <p class="muted">Time zone: {s.schedule.timeZone}</p>
            <NowLine now={s.now} />
            <h3>The next 7 days</h3>
            <Shifts shifts={s.shifts} />
            <h3>Overrides</h3>
            <Overrides s={s} m={m} />
            {m.canAct && m.viewer ? <AddOverride s={s} m={m} viewer={m.viewer} /> : null}
          </section>
        ))
      )}
    </Layout>
  );
}
