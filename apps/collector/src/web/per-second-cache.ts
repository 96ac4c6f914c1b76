/**
 * What a page reads, kept for one version of the read model within one second and shared by
 * every request in it — the dashboard's rule (status-page.service.tsx) for pages that read more
 * than the model: a screen of people reloading the same check costs its queries once a second,
 * and nothing shown is older than a second or a change. Pages still render per viewer.
 */
export class PerSecondCache<T> {
  private round = { version: -1, second: -1 };
  private readonly kept = new Map<string, Promise<T>>();

  constructor(private readonly maxEntries = 64) {}

  get(key: string, version: number, now: number, read: () => Promise<T>): Promise<T> {
    const second = Math.floor(now / 1000);
    if (this.round.version !== version || this.round.second !== second) {
      this.round = { version, second };
      this.kept.clear();
    }
    let value = this.kept.get(key);
    if (!value) {
      if (this.kept.size >= this.maxEntries) this.kept.clear();
      value = read();
      this.kept.set(key, value);
      // A failed read is not kept: the next request tries again.
      value.catch(() => this.kept.delete(key));
    }
    return value;
  }
}
