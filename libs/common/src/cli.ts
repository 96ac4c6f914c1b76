import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isSingleFileBuild } from './embedded.js';
import { ROUNDS_VERSION } from './version.js';

/** A command handler: resolves to the process exit code. */
export type CommandHandler = () => Promise<number>;

/** 64 is EX_USAGE (sysexits.h): what service managers and scripts read as "wrong invocation". */
export const EX_USAGE = 64;

/**
 * A command called wrongly (an unknown subcommand, a missing argument or flag, a flag's value
 * that cannot be read): runCommand prints its message and exits EX_USAGE, as for a bad option,
 * so a script can tell "you called me wrongly" from "the thing asked for failed" (1).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command that failed and says with which exit code (a script reads it): printed as any error, exits `code`. */
export class CommandFailed extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}

/**
 * Dispatches `command` to its handler, prints usage for help or an unknown command and the
 * version for `--version`, and exits with the handler's code; an error is printed as one line
 * prefixed by the program name (the messages say what to do), never as a stack trace, and
 * exits 1 — EX_USAGE for a {@link UsageError}.
 */
export function runCommand(program: string, usage: string, command: string | undefined, handlers: Record<string, CommandHandler>): void {
  const run = async (): Promise<number> => {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      console.log(usage);
      return command === undefined ? EX_USAGE : 0;
    }
    if (command === '--version' || command === 'version') {
      console.log(
        `${program} ${ROUNDS_VERSION} (Node.js ${process.version}, ${process.platform}-${process.arch}${isSingleFileBuild() ? ', single file' : ''})`,
      );
      return 0;
    }
    const handler = Object.hasOwn(handlers, command) ? handlers[command] : undefined;
    if (!handler) {
      console.error(`unknown command "${command}"\n\n${usage}`);
      return EX_USAGE;
    }
    return handler();
  };
  run().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`${program}: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(e instanceof UsageError ? EX_USAGE : e instanceof CommandFailed ? e.code : 1);
    },
  );
}

/** `parseArgs` over argv after the command; a bad option prints one line and the usage, and exits 64. */
export function parseCommandLine<O extends ParseArgsConfig['options']>(program: string, usage: string, options: O) {
  const [command, ...rest] = process.argv.slice(2);
  try {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options, strict: true });
    return { command, values, positionals };
  } catch (e) {
    console.error(`${program}: ${(e as Error).message}\n\n${usage}`);
    process.exit(EX_USAGE);
  }
}

/**
 * Resolves once the process was asked to stop (SIGTERM or SIGINT) and `stop` has finished.
 * A repeated SIGTERM while stopping is ignored — a service manager and a process-group kill
 * often both send one, and the default action of the second would cut the flush short. A
 * second SIGINT (Ctrl-C pressed again) still exits at once, as people expect.
 */
export function untilStopped(log: { log(message: string): void; warn(message: string): void }, stop: (signal: string) => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        if (signal === 'SIGINT') {
          log.warn('SIGINT again: exiting without finishing the shutdown');
          process.exit(130);
        }
        log.log(`${signal} again: still stopping`);
        return;
      }
      stopping = true;
      void stop(signal).finally(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
