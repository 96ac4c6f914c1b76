// The config fields every DICOM check takes — where the node is, who we are, the phase
// timeouts and DICOM TLS — with the same names, defaults and messages in each plugin.
import { z } from 'zod';
import { certKeyPairIssue, tlsFileFields } from './tls-files.js';
import { certDayFields } from './net-common.js';
import { hostname, port } from '../schema.js';

// PS3.5 6.2: AE is up to 16 characters of the default repertoire, no backslash, no
// control characters; leading/trailing spaces are not significant, so all spaces is empty.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const HAS_CONTROL = /[\x00-\x1f\x7f]/;

/** A DICOM Application Entity title, with a message that says which rule it breaks. */
export function aeTitle(description: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const problem =
        value.length > 16
          ? `must be at most 16 characters (DICOM AE title), got ${value.length}`
          : value.includes('\\')
            ? 'must not contain a backslash (DICOM AE title)'
            : HAS_CONTROL.test(value)
              ? 'must not contain control characters such as tab or newline (DICOM AE title)'
              : !PRINTABLE_ASCII.test(value)
                ? 'must use plain ASCII characters only (DICOM AE title)'
                : value.trim() === ''
                  ? 'must not be empty or all spaces (DICOM AE title)'
                  : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description });
}

function seconds(description: string, fallback: number) {
  return z.number().positive().max(600).default(fallback).meta({ description });
}

function tlsFields() {
  return {
    ...tlsFileFields(),
    verify: z.boolean().default(true).meta({ description: 'verify the peer certificate and that it names host; false only for a lab' }),
  };
}

export const dicomTlsSchema = z
  .strictObject(tlsFields())
  .superRefine((t, ctx) => {
    const pair = certKeyPairIssue(t);
    if (pair) ctx.addIssue({ code: 'custom', ...pair });
  })
  .meta({ description: 'DICOM TLS (PS3.15 B.1); plain TCP when absent' });

export type DicomTlsConfig = z.output<typeof dicomTlsSchema>;

/**
 * DICOM TLS for the checks that also judge the node certificate's expiry (dicom-echo,
 * dicom-store): the day thresholds of the http and tcp plugins, with their defaults and rule.
 */
export const dicomTlsExpirySchema = z
  .strictObject({ ...tlsFields(), ...certDayFields() })
  .superRefine((t, ctx) => {
    const pair = certKeyPairIssue(t);
    if (pair) ctx.addIssue({ code: 'custom', ...pair });
    // Only between valid values: a negative one has its own message.
    if (t.certWarningDays >= 0 && t.certCriticalDays > t.certWarningDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['certCriticalDays'],
        message: `must not be more than certWarningDays (${t.certWarningDays}): critical comes closer to expiry than warning`,
      });
    }
  })
  .meta({ description: 'DICOM TLS (PS3.15 B.1); plain TCP when absent' });

export type DicomTlsExpiryConfig = z.output<typeof dicomTlsExpirySchema>;

/** host, port, AE titles, phase timeouts and TLS, for a plugin's strictObject. */
export function dicomConnectionFields() {
  return {
    host: hostname().meta({ description: 'DICOM node host name or IP address' }),
    port: port().default(104).meta({ description: 'DICOM port (104, or 11112 on many nodes)' }),
    callingAet: aeTitle('our AE title, as the node knows it').default('ROUNDS'),
    calledAet: aeTitle("the node's AE title"),
    connectTimeoutSeconds: seconds('give up when TCP does not connect within this time', 5),
    associationTimeoutSeconds: seconds('give up when the association (and TLS handshake) is not answered within this time', 10),
    responseTimeoutSeconds: seconds('give up when a C-ECHO/C-FIND response or release does not come within this time', 10),
    tls: dicomTlsSchema.optional(),
  };
}

/** What {@link dicomConnectionFields} parse to. */
export interface DicomConnectionConfig {
  host: string;
  port: number;
  callingAet: string;
  calledAet: string;
  connectTimeoutSeconds: number;
  associationTimeoutSeconds: number;
  responseTimeoutSeconds: number;
  tls?: DicomTlsConfig | undefined;
}

/** A DICOM date, an open or closed range, or a word for it; the message lists the forms. */
export const DICOM_DATE_KEY = /^(today|\d{8}|\d{8}-|-\d{8}|\d{8}-\d{8}|\*)$/;
export const DICOM_DATE_KEY_MESSAGE = 'must be "today", "*" (any date), or a DICOM date or range such as 20240101-20240131';
