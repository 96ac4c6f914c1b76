export interface InitCommandOptions {
  listen: string;
  configPath: string;
  /** Passed on only when set: the MSI hands over its SITEKEY property, empty when not given. */
  siteKey?: string;
  spoolDir?: string;
}

/**
 * The `rounds-agent init` arguments `service install` runs when there is no config yet — what
 * the MSI's LISTEN and SITEKEY properties become. An empty value is an unset MSI property.
 */
export function initArgs(o: InitCommandOptions): string[] {
  return [
    'init',
    '--listen',
    o.listen,
    '--config',
    o.configPath,
    ...(o.spoolDir ? ['--spool-dir', o.spoolDir] : []),
    ...(o.siteKey ? ['--site-key', o.siteKey] : []),
  ];
}

/** The same arguments with the site key hidden, for what is printed or logged. */
export function redactedInitArgs(o: InitCommandOptions): string[] {
  return initArgs(o.siteKey ? { ...o, siteKey: '<redacted>' } : o);
}
