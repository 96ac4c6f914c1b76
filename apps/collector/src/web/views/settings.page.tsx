import { ROUNDS_VERSION } from '#rounds/common';
import type { CollectorConfig } from '../../config/env.js';
import { settingRows } from '../../config/settings-in-effect.js';
import { Layout, type Viewer } from './layout.js';

/** The settings in effect, for admins: read here, changed in the collector's environment and applied by a restart. */
export function SettingsPage({ viewer, config }: { viewer: Viewer | undefined; config: CollectorConfig }) {
  return (
    <Layout title="Settings" viewer={viewer} section="settings">
      <h1>Settings</h1>
      <p class="muted">
        Rounds {ROUNDS_VERSION}. These are the collector's settings in effect. They are set in its environment (the systemd unit's <code>Environment=</code>{' '}
        lines, the container's variables, or <code>.quickstart/</code>'s shell) and take effect at the next start; secrets show only whether they are set.
      </p>
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
