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

/** The console logger both apps use: Nest's, minus its start-up chatter below debug level. */
export class RoundsLogger extends ConsoleLogger {
  constructor(private readonly level: RoundsLogLevel) {
    super({ logLevels: LEVELS[level], colors: !process.env['NO_COLOR'] && process.stdout.isTTY === true });
  }

  override log(message: unknown, context?: string): void {
    if (this.level !== 'debug' && context && QUIET_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}
