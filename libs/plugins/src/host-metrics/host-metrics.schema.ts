import { z } from 'zod';
import { thresholdRange } from '../schema.js';

/**
 * A list of glob patterns (`*` any run of characters, `?` one), compiled once when the
 * config is validated. Serialises as its patterns, so a config still keys rate state.
 */
export class GlobList {
  private readonly regexes: RegExp[];

  constructor(
    readonly patterns: readonly string[],
    ignoreCase: boolean,
  ) {
    this.regexes = patterns.map(
      (p) =>
        new RegExp(
          `^${p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
          ignoreCase ? 'i' : '',
        ),
    );
  }

  get empty(): boolean {
    return this.regexes.length === 0;
  }

  test(value: string): boolean {
    return this.regexes.some((r) => r.test(value));
  }

  toJSON(): readonly string[] {
    return this.patterns;
  }
}

function globList(description: string, ignoreCase: boolean) {
  return z
    .array(z.string().min(1, 'a pattern may not be empty'))
    .default([])
    .meta({ description: `${description} Glob patterns: * matches any characters, ? one.` })
    .transform((patterns) => new GlobList(patterns, ignoreCase));
}

function percentThresholds(what: string) {
  return z
    .strictObject({
      warning: thresholdRange(`WARNING when ${what}, in percent 0–100, is outside this range`).optional(),
      critical: thresholdRange(`CRITICAL when ${what}, in percent 0–100, is outside this range`).optional(),
    })
    .meta({ description: `Thresholds on ${what} in percent (0–100), e.g. { warning: 80, critical: 90 }.` });
}

export type PercentThresholds = z.output<ReturnType<typeof percentThresholds>>;

export const hostMetricsSchema = z.strictObject({
  perCore: z.boolean().default(true).meta({ description: 'Also report the usage of each CPU core (cpu_core_usage_ratio{core}).' }),
  filesystems: z
    .strictObject({
      includeMounts: globList('Only these mount points (e.g. "/", "/data*", "C:"); empty means all.', false),
      excludeMounts: globList('Never these mount points (e.g. "/snap/*").', false),
      includeTypes: globList('Only these filesystem types (e.g. "ext4", "xfs", "NTFS"); naming a pseudo type here includes it.', true),
      excludeTypes: globList('Never these filesystem types.', true),
      includePseudo: z
        .boolean()
        .default(false)
        .meta({ description: 'Report pseudo, in-memory and network filesystems too (tmpfs, overlay lower layers, nfs, cifs, …).' }),
    })
    .prefault({})
    .meta({ description: 'Which filesystems to report; by default every fixed local one.' }),
  network: z
    .strictObject({
      includeInterfaces: globList('Only these interfaces (e.g. "eth*", "Ethernet*"); empty means all.', true),
      excludeInterfaces: globList('Never these interfaces (e.g. "veth*", "docker*").', true),
      includeLoopback: z.boolean().default(false).meta({ description: 'Report loopback interfaces too.' }),
    })
    .prefault({})
    .meta({ description: 'Which network interfaces to report.' }),
  thresholds: z
    .strictObject({
      cpu: percentThresholds('CPU busy time across all cores').optional(),
      memory: percentThresholds('memory used (total − available)').optional(),
      swap: percentThresholds('swap used').optional(),
      disk: percentThresholds("the space used on each reported filesystem (as df's Use%)").optional(),
      disks: z
        .record(z.string().min(1), percentThresholds('the space used on this filesystem'))
        .default({})
        .meta({ description: 'Per mount point thresholds that replace `disk` for that mount (e.g. { "/var": { critical: 95 } }).' }),
    })
    .prefault({})
    .meta({ description: 'Nagios ranges on percentages (0–100): "90" alerts above 90, "@0:10" inside 0..10. None set means always OK.' }),
});

export type HostMetricsConfig = z.output<typeof hostMetricsSchema>;
