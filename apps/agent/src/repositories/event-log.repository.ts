import { spawn, spawnSync } from 'node:child_process';

/** eventcreate takes one ID from 1 to 1000 per message kind: 100 is the agent's errors. */
const ERROR_EVENT_ID = '100';
/** Enough for a message and its cause; eventcreate refuses very long descriptions. */
const MAX_LENGTH = 1000;
/** A burst (a collector sending a broken check set, a full disk) must not flood the log. */
const PER_MINUTE = 10;

/** Runs eventcreate.exe with these arguments; never throws (a log that cannot be written must not stop the agent). */
export type EventWriter = (args: string[]) => void;

const spawnEventcreate: EventWriter = (args) => {
  const child = spawn('eventcreate', args, { stdio: 'ignore', windowsHide: true, detached: false });
  child.once('error', () => undefined);
};

/**
 * The Windows Application event log, through Windows' own eventcreate.exe (the agent carries no
 * native module): each error an ERROR event of `source`, at most 10 a minute, then one event
 * saying how many were left out and where to read them. The source is registered by
 * `rounds-agent service install` (only an administrator can register one).
 */
export class WindowsEventLog {
  private windowStart = -Infinity;
  private sent = 0;
  private leftOut = 0;

  constructor(
    private readonly source: string,
    private readonly logDir: string,
    private readonly now: () => number = Date.now,
    private readonly write: EventWriter = spawnEventcreate,
  ) {}

  error(message: string): void {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      if (this.leftOut > 0) {
        this.write(this.args(`${this.leftOut} more error(s) in the last minute were not sent to the event log: see the agent's log in ${this.logDir}`));
      }
      this.windowStart = now;
      this.sent = 0;
      this.leftOut = 0;
    }
    if (this.sent >= PER_MINUTE) {
      this.leftOut++;
      return;
    }
    this.sent++;
    this.write(this.args(message));
  }

  /** For the last words of an agent that cannot start: written before the process exits. */
  static errorNow(source: string, message: string): void {
    spawnSync('eventcreate', new WindowsEventLog(source, '').args(message), { stdio: 'ignore', windowsHide: true });
  }

  private args(message: string): string[] {
    const text = message.length > MAX_LENGTH ? `${message.slice(0, MAX_LENGTH - 1)}…` : message;
    return ['/L', 'APPLICATION', '/T', 'ERROR', '/SO', this.source, '/ID', ERROR_EVENT_ID, '/D', text];
  }
}
