import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command handler: resolves to the process exit code. */
export type CommandHandler = () => Promise<number>;

/** 64 is EX_USAGE (sysexits.h): what service managers and scripts read as "wrong invocation". */
const EX_USAGE = 64;

/**
 * Dispatches `command` to its handler, prints usage for help or an unknown command, and
 * exits with the handler's code; an error is printed as one line prefixed by the program
 * name (the messages say what to do), never as a stack trace.
 */
export function runCommand(program: string, usage: string, command: string | undefined, handlers: Record<string, CommandHandler>): void {
  const run = async (): Promise<number> => {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      console.log(usage);
      return command === undefined ? EX_USAGE : 0;
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
      process.exit(1);
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
