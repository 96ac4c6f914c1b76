import { z } from 'zod';
import { hostname, port, thresholdRange } from '../schema.js';
import { certKeyPairIssue, tlsFileFields } from '../shared/tls-files.js';

// HL7 v2 ST/HD values in MSH: printable ASCII without the separators the default encoding uses.
const MSH_VALUE = /^[\x20-\x7e]*$/;
const SEPARATORS = /[|^~\\&]/;

function mshField(description: string, max: number) {
  return z
    .string()
    .max(max, `must be at most ${max} characters`)
    .superRefine((value, ctx) => {
      if (!MSH_VALUE.test(value)) ctx.addIssue({ code: 'custom', message: 'must use plain printable ASCII (HL7 MSH field)' });
      else if (SEPARATORS.test(value))
        ctx.addIssue({ code: 'custom', message: 'must not contain the HL7 separators | ^ ~ \\ & (write the components in messageType)' });
    })
    .meta({ description });
}

export const hl7TlsSchema = z
  .strictObject({
    ...tlsFileFields(),
    verify: z.boolean().default(true).meta({ description: 'verify the peer certificate and that it names host (or servername); false only for a lab' }),
    servername: hostname().optional().meta({ description: 'TLS SNI and the name the certificate must carry; default: host (when it is a name)' }),
  })
  .superRefine((t, ctx) => {
    const pair = certKeyPairIssue(t);
    if (pair) ctx.addIssue({ code: 'custom', ...pair });
  })
  .meta({ description: 'MLLP over TLS; plain TCP when absent' });

/**
 * A whole HL7 v2 message to send instead of the built-in one: segments on separate lines
 * (CR, LF or CRLF), the first an MSH. MSH-7 and MSH-10 are filled in each run.
 */
const messageField = z
  .string()
  .max(64 * 1024, 'must be at most 65536 characters')
  .superRefine((text, ctx) => {
    const first = text.split(/\r\n|\r|\n/, 1)[0] ?? '';
    if (!first.startsWith('MSH') || first.length < 8) {
      ctx.addIssue({ code: 'custom', message: 'must be an HL7 v2 message whose first segment is MSH, e.g. "MSH|^~\\&|ROUNDS||RIS||||ADT^A01|1|P|2.5"' });
      return;
    }
    const separator = first[3]!;
    if (/[\w\s]/.test(separator))
      ctx.addIssue({ code: 'custom', message: `MSH-1, the field separator after "MSH", must be a symbol such as |, got ${JSON.stringify(separator)}` });
    else if (first.split(separator).length < 12) {
      ctx.addIssue({
        code: 'custom',
        message: 'the MSH segment needs at least 12 fields (up to MSH-12, the version): MSH-10 and MSH-12 are what a receiver checks',
      });
    }
  })
  .meta({
    description:
      'the HL7 v2 message to send (segments on separate lines); MSH-7 and MSH-10 are set each run; default: an MSH-only NMD^N02 (network management) message',
  });

/** The built-in message's MSH values, by field. */
export const MSH_DEFAULTS = {
  sendingApplication: 'ROUNDS',
  sendingFacility: '',
  receivingApplication: '',
  receivingFacility: '',
  messageType: 'NMD^N02^NMD_N02',
  processingId: 'P',
  version: '2.5',
} as const;

export const hl7MllpSchema = z
  .strictObject({
    host: hostname().meta({ description: 'HL7 interface engine or receiver host name or IP address' }),
    port: port().default(2575).meta({ description: 'MLLP port (2575 is the registered HL7 port)' }),
    sendingApplication: mshField('MSH-3, who we are', 227).default(MSH_DEFAULTS.sendingApplication),
    sendingFacility: mshField('MSH-4', 227).default(MSH_DEFAULTS.sendingFacility),
    receivingApplication: mshField('MSH-5, the application the receiver routes by', 227).default(MSH_DEFAULTS.receivingApplication),
    receivingFacility: mshField('MSH-6', 227).default(MSH_DEFAULTS.receivingFacility),
    messageType: z
      .string()
      .regex(/^[A-Z0-9]{3}(\^[A-Z0-9]{3}(\^[A-Z0-9_]{3,7})?)?$/, 'must be an HL7 message type such as NMD^N02^NMD_N02, ADT^A01 or QRY^A19')
      .default(MSH_DEFAULTS.messageType)
      .meta({ description: 'MSH-9 of the built-in message; NMD^N02 (application management data) is meant for this and changes nothing' }),
    processingId: z
      .enum(['P', 'D', 'T'], { error: 'must be P (production), D (debugging) or T (training)' })
      .default(MSH_DEFAULTS.processingId)
      .meta({ description: 'MSH-11' }),
    version: z
      .string()
      .regex(/^2\.\d(\.\d)?$/, 'must be an HL7 v2 version such as 2.3, 2.5 or 2.5.1')
      .default(MSH_DEFAULTS.version)
      .meta({ description: 'MSH-12 of the built-in message' }),
    message: messageField.optional(),
    errorAckStatus: z
      .enum(['WARNING', 'CRITICAL'], { error: 'must be WARNING or CRITICAL' })
      .default('WARNING')
      .meta({ description: 'status when the receiver answers AE (application error): it took the message but could not process it' }),
    maxAckBytes: z
      .number()
      .int()
      .min(64)
      .max(1024 * 1024)
      .default(64 * 1024)
      .meta({ description: 'give up (protocol_error) when the ACK is not complete within this many bytes' }),
    tls: hl7TlsSchema.optional(),
    warning: thresholdRange('WARNING when the round trip (message sent to ACK read) in seconds is outside').optional(),
    critical: thresholdRange('CRITICAL when the round trip in seconds is outside').optional(),
  })
  .superRefine((c, ctx) => {
    if (c.message === undefined) return;
    // Beside a message of one's own these would be ignored: say so rather than surprise.
    for (const field of Object.keys(MSH_DEFAULTS) as (keyof typeof MSH_DEFAULTS)[]) {
      if (c[field] !== MSH_DEFAULTS[field]) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} is for the built-in message: write it into the MSH of message instead` });
      }
    }
  });

export type Hl7MllpConfig = z.output<typeof hl7MllpSchema>;
