import { ROUNDS_VERSION } from '#rounds/common';
import type { CollectorConfig } from '../../config/env.js';
import { settingRows } from '../../config/settings-in-effect.js';
import type { CollectorMember } from '../../cluster/cluster.js';
import { Layout, Time, type Viewer } from './layout.js';

/**
 * The settings in effect, for admins: read here, changed in the collector's environment and
 * applied by a restart. With several collectors on one PostgreSQL (`collectors`), they come first.
 */
export function SettingsPage({ viewer, config, collectors }: { viewer: Viewer | undefined; config: CollectorConfig; collectors: CollectorMember[] | null }) {
  return (
    <Layout title="Settings" viewer={viewer} section="settings">
      <h1>Settings</h1>
      <p class="muted">
        Rounds {ROUNDS_VERSION}. These are the collector's settings in effect. They are set in its environment (the systemd unit's <code>Environment=</code>{' '}
        lines, the container's variables, or <code>.quickstart/</code>'s shell) and take effect at the next start; secrets show only whether they are set.
      </p>
      {collectors ? (
        <>
          <Collectors members={collectors} />
          <h2>Settings</h2>
        </>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>Area</th>
            <th>Setting</th>
            <th>Now</th>
            <th>Set by</th>
          </tr>
        </thead>
        <tbody>
          {settingRows(config).map((r) => (
            <tr>
              <td class="muted">{r.group}</td>
              <td>{r.name}</td>
              <td>{r.value}</td>
              <td>
                <code>{r.variable}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

/** The collectors sharing the database (docs/scaling.md, High availability): who is alive, who polls how many agents, who leads. */
function Collectors({ members }: { members: CollectorMember[] }) {
  return (
    <>
      <h2>Collectors</h2>
      <p class="muted">
        The collectors sharing this database. Each agent is polled by one of them; one leads (alert timers, escalation, roll-ups). A collector whose heartbeat
        stopped is gone: the others have taken its agents over.
      </p>
      <table>
        <thead>
          <tr>
            <th>Collector</th>
            <th>State</th>
            <th class="num">Agents polled</th>
            <th>Started</th>
            <th>Last heartbeat</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr>
              <td>
                {m.name}
                {m.self ? <span class="muted"> (this one)</span> : null}
              </td>
              <td>{m.live ? (m.leader ? 'live, leader' : 'live') : 'gone'}</td>
              <td class="num">{m.agents}</td>
              <td>
                <Time ms={m.startedAt} />
              </td>
              <td>
                <Time ms={m.heartbeatAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
