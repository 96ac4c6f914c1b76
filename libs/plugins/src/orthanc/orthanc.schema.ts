import { z } from 'zod';
import { durationField } from '#rounds/common';
import { secret, thresholdRange } from '../schema.js';
import { workingHoursSchema } from '../shared/working-hours.js';

const MINUTE = 60_000;

/** How long Orthanc may go without a new instance; judged by the time since the last one arrived. */
const arrivalSchema = z
  .strictObject({
    warnAfter: durationField({ min: MINUTE, max: 90 * 86_400_000 })
      .optional()
      .meta({ description: 'WARNING/threshold after this long without a new instance, e.g. "2h" (working time when workingHours is set)' }),
    criticalAfter: durationField({ min: MINUTE, max: 90 * 86_400_000 })
      .optional()
      .meta({ description: 'CRITICAL/threshold after this long without a new instance, e.g. "8h"' }),
    workingHours: workingHoursSchema
      .optional()
      .meta({ description: 'only time inside these hours counts as silence, and outside them silence never alerts; all time counts when absent' }),
  })
  .refine((a) => a.warnAfter !== undefined || a.criticalAfter !== undefined, {
    message: 'give warnAfter, criticalAfter or both: how long without a new instance is too long',
  })
  .refine((a) => a.warnAfter === undefined || a.criticalAfter === undefined || a.criticalAfter >= a.warnAfter, {
    message: 'must not be shorter than warnAfter: critical comes after warning',
    path: ['criticalAfter'],
  })
  .meta({ description: "report the time since the last instance arrived (Orthanc's change log) and alert after a silence" });

export const orthancSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL such as http://orthanc.example.org:8042' })
      .meta({ description: "base URL of Orthanc's REST API (with any path prefix of a reverse proxy)" }),
    username: z.string().min(1).optional().meta({ description: 'HTTP Basic user (RegisteredUsers in orthanc.json)' }),
    password: secret('HTTP Basic password').optional(),
    caFile: z.string().min(1).optional().meta({ description: 'PEM CA file for an https URL signed by a private CA' }),
    verifyTls: z.boolean().default(true).meta({ description: 'verify the https certificate; false only for a lab' }),
    jobsFailedWarning: thresholdRange("WARNING when the number of failed jobs in Orthanc's job history is outside").optional(),
    jobsFailedCritical: thresholdRange('CRITICAL when the number of failed jobs is outside').optional(),
    jobsPendingWarning: thresholdRange('WARNING when the number of pending jobs is outside').optional(),
    jobsPendingCritical: thresholdRange('CRITICAL when the number of pending jobs is outside').optional(),
    storageBytesWarning: thresholdRange("WARNING when Orthanc's storage size in bytes (TotalDiskSize) is outside").optional(),
    storageBytesCritical: thresholdRange("CRITICAL when Orthanc's storage size in bytes is outside").optional(),
    echoModalities: z.boolean().default(false).meta({ description: 'have Orthanc C-ECHO each of its configured modalities, one metric per modality' }),
    modalities: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({ description: "only these modality ids (Orthanc's DicomModalities names); all when absent" }),
    echoTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(120)
      .default(5)
      .meta({ description: 'how long Orthanc waits for each modality (capped by the check deadline)' }),
    arrival: arrivalSchema.optional(),
  })
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password go together: give both or neither',
    path: ['password'],
  })
  .refine((c) => c.modalities === undefined || c.echoModalities, {
    message: 'modalities is only used with echoModalities: true',
    path: ['modalities'],
  });

export type OrthancConfig = z.output<typeof orthancSchema>;
