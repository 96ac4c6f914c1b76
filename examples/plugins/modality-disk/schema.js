// @ts-check
import { hostname, port, secret, z } from '@rounds/plugin-sdk';

/** @param {string} description */
const percent = (description) => z.number().min(0).max(100).meta({ description });

/**
 * A modality-disk check's config. Cross-field rules live here too (critical above warning), so
 * that the collector refuses a bad config when it is saved, not when it runs.
 */
export const configSchema = z
  .strictObject({
    host: hostname().meta({ description: "The modality's service host (its console PC or the vendor's service box)" }),
    port: port().default(443).meta({ description: 'Port of its service API' }),
    tls: z.boolean().default(true).meta({ description: 'https (true) or http (false)' }),
    username: z.string().min(1).meta({ description: 'Service account of the vendor API (read-only is enough)' }),
    password: secret('Password of that account'),
    volume: z.string().min(1).optional().meta({ description: 'Only this volume (e.g. "images"); all volumes the modality reports when left out' }),
    warningUsedPercent: percent('WARNING when a volume is fuller than this (percent used)').default(80),
    criticalUsedPercent: percent('CRITICAL when a volume is fuller than this (percent used)').default(90),
  })
  .refine((c) => c.criticalUsedPercent > c.warningUsedPercent, {
    path: ['criticalUsedPercent'],
    error: 'must be above warningUsedPercent',
  });

/**
 * What the vendor's storage endpoint answers. Parsed, not trusted: a firmware update that renames
 * a field is reported as a protocol error naming the field, not as NaN bytes free.
 */
export const storageResponse = z.object({
  volumes: z
    .array(
      z.object({
        name: z.string().min(1),
        totalBytes: z.number().int().positive(),
        freeBytes: z.number().int().nonnegative(),
      }),
    )
    .min(1),
});
