/**
 * A metric's labels as people read them after its name, `{mount="/", fs="ext4"}` — or '' without
 * labels. Without them the series of one name (a disk per mount, a share per path) are
 * indistinguishable wherever a result's metrics are listed.
 */
export function labelText(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}
