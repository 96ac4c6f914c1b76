import { z } from 'zod';
import { secret, thresholdRange, timeZoneName } from '../schema.js';
import { certKeyPairIssue, setTlsFileFields, tlsFileFields } from '../shared/tls-files.js';

// A DICOM keyword (PatientID, StudyDate, ModalitiesInStudy) or a tag as 8 hex digits (00100020),
// optionally a sequence path (00400275.00400009): what QIDO-RS takes as a query key.
const QUERY_KEY = /^(?:[A-Za-z][A-Za-z0-9]*|[0-9A-Fa-f]{8})(?:\.(?:[A-Za-z][A-Za-z0-9]*|[0-9A-Fa-f]{8}))*$/;
/** QIDO-RS parameters that are not attribute matches: the plugin sets them itself. */
const RESERVED_KEYS = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);
const UID = /^(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*))*$/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** The value that stands for the current date in the check's time zone, in any date attribute. */
export const TODAY = 'today';

/** True when `key` names a date attribute by keyword (StudyDate, SeriesDate, …): where `today` applies. */
export function isDateKey(key: string): boolean {
  return /Date$/.test(key);
}

const url = z
  .string()
  .meta({ description: 'The DICOMweb root, e.g. https://pacs.example.org/dicom-web (QIDO-RS and WADO-RS paths are added to it)' })
  .superRefine((text, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a URL: write the DICOMweb root in full, e.g. http://orthanc.example.org:8042/dicom-web` });
      return;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `scheme "${parsed.protocol}" is not supported: use http:// or https://` });
    } else if (parsed.username || parsed.password) {
      ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password: use basicAuth, whose password is kept secret' });
    } else if (parsed.search || parsed.hash) {
      ctx.addIssue({ code: 'custom', message: 'must be the DICOMweb root without ?query or #fragment: put search keys in query' });
    }
  });

const query = z
  .record(z.string(), z.string())
  .default({})
  .meta({
    description: `QIDO-RS study search keys, e.g. {PatientID: "QA-PHANTOM"} or {StudyDate: ${TODAY}} (${TODAY} in any *Date key is the current date in timeZone)`,
  })
  .superRefine((value, ctx) => {
    for (const [key, v] of Object.entries(value)) {
      if (RESERVED_KEYS.has(key.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is set by the check itself: use the limit field, not a query key` });
      } else if (!QUERY_KEY.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not a DICOM attribute: write a keyword like PatientID or a tag like 00100020` });
      } else if (v === '') {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must not be empty: give the value to match, or remove the key' });
      } else if (CONTROL_CHARACTERS.test(v)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must not contain control characters (newline, tab and the like)' });
      }
    }
  });

export const dicomwebSchema = z
  .strictObject({
    url,
    query,
    timeZone: timeZoneName()
      .optional()
      .meta({ description: `IANA time zone in which ${TODAY} is the current date, e.g. Europe/Berlin (the PACS's); default: the agent's` }),
    limit: z.number().int().min(1).max(100).default(1).meta({ description: 'How many studies QIDO-RS may return (limit=…); 1 keeps the search cheap' }),
    studyInstanceUid: z
      .string()
      .max(64, 'must be at most 64 characters (a DICOM UID)')
      .regex(UID, 'must be a DICOM UID: digits and dots, e.g. 1.2.840.113619.2.55.3')
      .optional()
      .meta({ description: 'Retrieve the metadata of this study (a small study that stays, e.g. a QA phantom) instead of the first study found' }),
    retrieveMetadata: z.boolean().default(true).meta({ description: 'Also retrieve the WADO-RS metadata of one study (the first found, or studyInstanceUid)' }),
    noMatchStatus: z
      .enum(['OK', 'WARNING'])
      .default('WARNING')
      .meta({ description: 'Status when no study matches the query (OK where an empty answer is normal, e.g. StudyDate today early in the morning)' }),
    latencyWarning: thresholdRange('WARNING/threshold when the search and the retrieval together take seconds outside this range').optional(),
    latencyCritical: thresholdRange('CRITICAL/threshold when the search and the retrieval together take seconds outside this range').optional(),
    basicAuth: z
      .strictObject({
        username: z.string().min(1).meta({ description: 'User name' }),
        password: secret('Password (secret)'),
      })
      .optional()
      .meta({ description: 'HTTP basic authentication' }),
    bearerToken: secret('Sent as "Authorization: Bearer <token>" (secret)').optional(),
    tlsVerify: z.boolean().default(true).meta({ description: 'Verify the server certificate and host name (https only)' }),
    ...tlsFileFields(),
    maxMetadataBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(16 * 1024 * 1024)
      .meta({
        description: "Read at most this many bytes of a study's metadata (a large CT study's is tens of MiB); beyond it the answer is timed but not parsed",
      }),
  })
  .superRefine((c, ctx) => {
    if (c.basicAuth !== undefined && c.bearerToken !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['bearerToken'], message: 'set either basicAuth or bearerToken, not both' });
    }
    if (c.studyInstanceUid !== undefined && c.retrieveMetadata === false) {
      ctx.addIssue({ code: 'custom', path: ['studyInstanceUid'], message: 'is only used to retrieve metadata: remove it or set retrieveMetadata: true' });
    }
    const pair = certKeyPairIssue(c);
    if (pair) ctx.addIssue({ code: 'custom', ...pair });
    if (!/^https:/i.test(c.url)) {
      for (const field of setTlsFileFields(c)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} is used only for https:// URLs: use https or remove it` });
      }
    }
  });

export type DicomwebConfig = z.output<typeof dicomwebSchema>;
