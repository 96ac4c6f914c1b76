import path from 'node:path';
import { z } from 'zod';

/**
 * What a check may put into a `$ARGn$`: no spaces, quotes, `$`, `;`, `|`, `&`, `<`, `>`,
 * backticks or newlines. Nothing goes through a shell, so this is defence in depth and
 * keeps arguments readable in logs; `~` and `@` are in because Nagios ranges use them.
 */
export const NAGIOS_ARG_PATTERN = /^[A-Za-z0-9_.,:@%/=+~-]*$/;
const ARG_CHARS_HINT = 'letters, digits and _ . , : @ % / = + ~ -';
export const MAX_NAGIOS_ARGS = 32;
const MAX_ARG_LENGTH = 1024;

const COMMAND_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MACRO = /\$([A-Za-z0-9_]*)\$/g;
const ARG_MACRO = /^ARG([1-9]\d*)$/;

/** Absolute on POSIX (`/usr/lib/...`) or on Windows (`C:\...`, `\\server\share\...`). */
function isAbsoluteAnywhere(p: string): boolean {
  return path.posix.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) || /^\\\\[^\\]+\\/.test(p);
}

const nagiosCommandSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .refine(isAbsoluteAnywhere, 'must be an absolute path to the executable (e.g. /usr/lib/nagios/plugins/check_disk); no PATH lookup is done')
      .meta({ description: 'Absolute path of the plugin executable. It is run directly, without a shell.' }),
    args: z
      .array(z.string().max(MAX_ARG_LENGTH))
      .max(64)
      .default([])
      .meta({ description: "Argument template, one element per argv entry; $ARG1$…$ARGn$ are replaced by the check's args." }),
    allowDashArgs: z
      .boolean()
      .default(false)
      .meta({ description: 'Accept check args that start with "-" (e.g. negative numbers). Off by default so a check cannot inject options.' }),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string())
      .default({})
      .meta({ description: 'Extra environment for the plugin. It otherwise gets only PATH and LC_ALL=C (POSIX).' }),
  })
  .superRefine((command, ctx) => {
    const seen = new Set<number>();
    command.args.forEach((element, i) => {
      for (const m of element.matchAll(MACRO)) {
        const arg = ARG_MACRO.exec(m[1]!);
        if (!arg) {
          ctx.addIssue({
            code: 'custom',
            path: ['args', i],
            message: `macro ${m[0]} is not supported: only $ARG1$…$ARGn$ (the check's args) are substituted`,
          });
        } else {
          seen.add(Number(arg[1]));
        }
      }
    });
    const count = seen.size;
    for (let n = 1; n <= count; n++) {
      if (!seen.has(n)) {
        ctx.addIssue({
          code: 'custom',
          path: ['args'],
          message: `uses $ARG${Math.max(...seen)}$ but not $ARG${n}$: number the macros $ARG1$…$ARG${count}$ without gaps`,
        });
        break;
      }
    }
    if (count > MAX_NAGIOS_ARGS) {
      ctx.addIssue({ code: 'custom', path: ['args'], message: `uses ${count} macros; at most ${MAX_NAGIOS_ARGS} are allowed` });
    }
  });

/**
 * The agent's allow-list of Nagios plugins (NRPE style), in the agent's own config: a
 * check can only name one of these and fill in its `$ARGn$` macros. Example:
 * `{ check_disk: { path: '/usr/lib/nagios/plugins/check_disk', args: ['-w', '$ARG1$', '-c', '$ARG2$', '-p', '$ARG3$'] } }`
 */
export const nagiosCommandsSchema = z
  .record(z.string(), nagiosCommandSchema)
  // checked here rather than with a key schema so the message names the offending key
  .superRefine((commands, ctx) => {
    for (const name of Object.keys(commands)) {
      if (!COMMAND_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'command names may use letters, digits, _ . - (at most 64)' });
      }
    }
  })
  .meta({ description: 'Nagios plugins this agent may run, by name: executable and argument template.' });

/** The allow-list as written in the agent config (defaults may be left out). */
export type NagiosCommands = z.input<typeof nagiosCommandsSchema>;
/** One allowed command after validation, with its number of `$ARGn$` macros. */
export interface NagiosCommand extends z.output<typeof nagiosCommandSchema> {
  readonly name: string;
  readonly argCount: number;
}

/** Validates the allow-list once, when the agent starts; throws with field-named messages. */
export function compileNagiosCommands(commands: NagiosCommands): ReadonlyMap<string, NagiosCommand> {
  const parsed = nagiosCommandsSchema.safeParse(commands);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.map(String).join('.') || '(commands)'}: ${i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message}`)
      .join('; ');
    throw new Error(`invalid nagios commands in the agent config: ${detail}`);
  }
  const map = new Map<string, NagiosCommand>();
  for (const [name, command] of Object.entries(parsed.data)) {
    let argCount = 0;
    for (const element of command.args) {
      for (const m of element.matchAll(MACRO)) argCount = Math.max(argCount, Number(ARG_MACRO.exec(m[1]!)![1]));
    }
    map.set(name, { ...command, name, argCount });
  }
  return map;
}

/** Replaces `$ARGn$` in each template element; one element stays one argv entry. */
export function expandArgs(command: NagiosCommand, args: readonly string[]): string[] {
  return command.args.map((element) => element.replace(MACRO, (_, name: string) => args[Number(ARG_MACRO.exec(name)![1]) - 1] ?? ''));
}

function describeAllowed(commands: ReadonlyMap<string, NagiosCommand>): string {
  return commands.size === 0 ? 'this agent allows none' : `this agent allows: ${[...commands.keys()].sort().join(', ')}`;
}

/**
 * A check's config; `command` and `args` are checked against the agent's allow-list.
 * Without one (the collector, which never sees the agents' allow-lists) only the shape
 * and the argument characters are checked; the agent checks the rest when it gets the check.
 */
export function nagiosCheckSchema(commands: ReadonlyMap<string, NagiosCommand> | undefined) {
  return z
    .strictObject({
      command: z.string().min(1).meta({ description: "Name of a command in the agent's nagios.commands allow-list (e.g. check_disk)." }),
      args: z
        .array(z.string().max(MAX_ARG_LENGTH).regex(NAGIOS_ARG_PATTERN, `may only contain ${ARG_CHARS_HINT} (no spaces, quotes or shell characters)`))
        .max(MAX_NAGIOS_ARGS)
        .default([])
        .meta({ description: "Values for $ARG1$…$ARGn$ of the command's template, in order; exactly as many as the template uses." }),
    })
    .superRefine((config, ctx) => {
      if (!commands) return;
      const command = commands.get(config.command);
      if (!command) {
        ctx.addIssue({
          code: 'custom',
          path: ['command'],
          message: `"${config.command}" is not in the agent's nagios.commands allow-list (${describeAllowed(commands)}) — add it to the agent config to use it`,
        });
        return;
      }
      if (config.args.length !== command.argCount) {
        ctx.addIssue({
          code: 'custom',
          path: ['args'],
          message:
            command.argCount === 0
              ? `command "${command.name}" takes no args, got ${config.args.length}`
              : `command "${command.name}" takes exactly ${command.argCount} args ($ARG1$…$ARG${command.argCount}$), got ${config.args.length}`,
        });
      }
      if (!command.allowDashArgs) {
        config.args.forEach((arg, i) => {
          if (arg.startsWith('-')) {
            ctx.addIssue({
              code: 'custom',
              path: ['args', i],
              message: `"${arg}" starts with "-" and could be read as an option; set allowDashArgs: true on command "${command.name}" in the agent config to accept it`,
            });
          }
        });
      }
    });
}

export type NagiosCheckConfig = z.output<ReturnType<typeof nagiosCheckSchema>>;
