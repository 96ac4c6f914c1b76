import { z } from 'zod';
import { secret, thresholdRange } from '../schema.js';
import { aeTitle, dicomConnectionFields, dicomTlsExpirySchema } from '../shared/dicom-fields.js';

/**
 * Room a run's UIDs need after the root: ".<epoch ms>.<random up to 9 digits>.<1|2|3>" is at
 * most 26 characters, and a UID is at most 64 (PS3.5 9.1).
 */
export const UID_ROOT_MAX = 64 - 26;

const UID_ROOT = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;

function seconds(description: string, fallback: number) {
  return z.number().positive().max(600).default(fallback).meta({ description });
}

// PS3.5 6.2 LO: up to 64 characters, no backslash, no control characters.
const patientId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'must be plain ASCII without backslash or control characters (DICOM LO)')
  .refine((v) => v.trim() !== '', 'must not be all spaces')
  .default('ROUNDS-TEST')
  .meta({ description: 'PatientID of the test patient (ROUNDS^TEST) the test images are filed under; one the PACS keeps apart from real patients' });

export const dicomStoreFindSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description: 'after the C-STORE, C-FIND the study by its StudyInstanceUID until it is found; false for a node that only stores (a router, storescp)',
    }),
    intervalSeconds: z.number().min(0.1).max(60).default(1).meta({ description: 'pause between C-FIND attempts while the study is not findable yet' }),
    timeoutSeconds: seconds('CRITICAL when the study is not findable within this time after the C-STORE (capped by the check deadline)', 30),
    warning: thresholdRange('WARNING when the time until findable in seconds is outside').optional(),
    critical: thresholdRange('CRITICAL when the time until findable in seconds is outside').optional(),
  })
  .meta({ description: 'find the stored study again with a study-level C-FIND (Study Root)' });

export const dicomStoreCleanupSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL such as http://orthanc.example.org:8042' })
      .meta({ description: 'base URL of the REST API of the Orthanc that calledAet names, to delete the test study through' }),
    username: z.string().min(1).optional().meta({ description: 'HTTP Basic user (RegisteredUsers in orthanc.json)' }),
    password: secret('HTTP Basic password').optional(),
    caFile: z.string().min(1).optional().meta({ description: 'PEM CA file for an https URL signed by a private CA' }),
    verifyTls: z.boolean().default(true).meta({ description: 'verify the https certificate; false only for a lab' }),
  })
  .refine((c) => !/^https?:\/\/[^/]*@/i.test(c.url), {
    message: 'must not contain a user name or password: use username and password, whose password is kept secret',
    path: ['url'],
  })
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password go together: give both or neither',
    path: ['password'],
  })
  .refine((c) => c.caFile === undefined || c.url.startsWith('https:'), {
    message: 'caFile is used only for https:// URLs: use https or remove it',
    path: ['caFile'],
  })
  .meta({ description: "delete the test study after each run through Orthanc's REST API; absent: test studies stay on the node" });

export const dicomStoreSchema = z.strictObject({
  ...dicomConnectionFields(),
  callingAet: aeTitle('our AE title, as the node knows it (a PACS that checks calling AE titles must allow it to store)').default('ROUNDS'),
  responseTimeoutSeconds: seconds('give up when a C-STORE/C-FIND response or release does not come within this time', 10),
  tls: dicomTlsExpirySchema.optional(),
  patientId,
  uidRoot: z
    .string()
    .max(UID_ROOT_MAX, `must be at most ${UID_ROOT_MAX} characters: each run adds its time, a random number and a counter, and a UID is at most 64`)
    .regex(UID_ROOT, 'must be a DICOM UID root: numbers separated by dots, without leading zeros (e.g. 1.2.826.0.1.3680043.10.1234)')
    .optional()
    .meta({ description: "your organisation's UID root for the test images' UIDs; UUID-derived 2.25 UIDs when absent" }),
  warning: thresholdRange('WARNING when the C-STORE round trip in seconds is outside').optional(),
  critical: thresholdRange('CRITICAL when the C-STORE round trip in seconds is outside').optional(),
  find: dicomStoreFindSchema.prefault({}),
  cleanup: dicomStoreCleanupSchema.optional(),
});

export type DicomStoreConfig = z.output<typeof dicomStoreSchema>;
