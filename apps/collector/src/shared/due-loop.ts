import type { Clock } from '#rounds/common';

/**
 * A background loop on the collector's clock: runs `round` at once when started, then again
 * after the delay the round returns (when its next work is due), or at once when kicked while
 * a round runs — work that arrives mid-round is not left for the next idle wake-up. `round`
 * handles its own failures (and returns the delay to retry after).
 */
export class DueLoop {
  private running = false;
  private timer: unknown;
  private current: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly clock: Clock,
    private readonly round: () => Promise<number>,
  ) {}

  /** Started and not stopped: a long round checks it to end early. */
  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop, waiting for a round in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** Something is due now: run a round now rather than at the scheduled one. */
  kick(): void {
    if (!this.running) return;
    if (this.current) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.current = this.run().finally(() => {
        this.current = undefined;
      });
    }, ms);
  }

  private async run(): Promise<void> {
    let next = await this.round();
    if (this.again) {
      this.again = false;
      next = 0;
    }
    if (this.running) this.schedule(next);
  }
}
