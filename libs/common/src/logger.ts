import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** Nest's start-up chatter (module wiring, route mapping) says nothing an operator needs. */
const QUIET_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestMicroservice']);

export type RoundsLogLevel = 'error' | 'warn' | 'log' | 'debug';

const LEVELS: Record<RoundsLogLevel, LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * The console logger both apps use: Nest's, minus its start-up chatter below debug level.
 * `errors`, when given, also receives every error and fatal line as one line of text, with its
 * context (the Windows agent sends them to the Event Log).
 */
export class RoundsLogger extends ConsoleLogger {
  constructor(
    private readonly level: RoundsLogLevel,
    private readonly errors?: (line: string) => void,
  ) {
    super({ logLevels: LEVELS[level], colors: !process.env['NO_COLOR'] && process.stdout.isTTY === true });
  }

  override error(message: unknown, ...optionalParams: unknown[]): void {
    super.error(message, ...optionalParams);
    this.errors?.(oneLine(message, optionalParams));
  }

  override fatal(message: unknown, ...optionalParams: unknown[]): void {
    super.fatal(message, ...optionalParams);
    this.errors?.(oneLine(message, optionalParams));
  }

  override log(message: unknown, context?: string): void {
    if (this.level !== 'debug' && context && QUIET_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}

/** `[Context] message`: Nest passes the context last (after a stack, for errors). */
function oneLine(message: unknown, optionalParams: unknown[]): string {
  const text = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
  const context = optionalParams.at(-1);
  return typeof context === 'string' && context !== '' ? `[${context}] ${text}` : text;
}
