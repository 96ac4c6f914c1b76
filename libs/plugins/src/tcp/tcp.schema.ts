import { z } from 'zod';
import { hostname, port, thresholdRange } from '../schema.js';
import { certDayFields, regexField } from '../shared/net-common.js';
import { certKeyPairIssue, setTlsFileFields, tlsFileFields } from '../shared/tls-files.js';

export const tcpConfigSchema = z
  .strictObject({
    host: hostname().meta({ description: 'Host name or IP address to connect to' }),
    port: port().meta({ description: 'TCP port' }),
    send: z.string().min(1).optional().meta({ description: 'Text to send once connected, e.g. "PING\\r\\n" (YAML/JSON escapes apply)' }),
    expect: z.string().min(1).optional().meta({ description: 'Text the peer must send (searched in everything received, banner included)' }),
    expectMatches: regexField('Pattern the received text must match').optional(),
    tls: z.boolean().default(false).meta({ description: 'Speak TLS after connecting' }),
    tlsVerify: z.boolean().default(true).meta({ description: 'Verify the certificate and host name (with tls: true)' }),
    servername: hostname().optional().meta({ description: 'TLS SNI and the name the certificate must carry; default: host (when it is a name)' }),
    ...tlsFileFields(),
    ...certDayFields(),
    latencyWarning: thresholdRange('WARNING/threshold when the total time in seconds is outside this range').optional(),
    latencyCritical: thresholdRange('CRITICAL/threshold when the total time in seconds is outside this range').optional(),
    maxResponseBytes: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024)
      .default(64 * 1024)
      .meta({ description: 'Stop reading (unexpected_response) after this many bytes without a match' }),
  })
  .superRefine((c, ctx) => {
    if (c.expect !== undefined && c.expectMatches !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['expectMatches'], message: 'set either expect or expectMatches, not both' });
    }
    if (c.servername !== undefined && c.tls !== true) {
      ctx.addIssue({ code: 'custom', path: ['servername'], message: 'servername is used only for TLS: set tls: true or remove it' });
    }
    const pair = certKeyPairIssue(c);
    if (pair) ctx.addIssue({ code: 'custom', ...pair });
    if (c.tls !== true) {
      for (const field of setTlsFileFields(c)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} is used only for TLS: set tls: true or remove it` });
      }
    }
    if (typeof c.certCriticalDays === 'number' && typeof c.certWarningDays === 'number' && c.certCriticalDays > c.certWarningDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['certCriticalDays'],
        message: `must not be more than certWarningDays (${c.certWarningDays}): critical comes closer to expiry than warning`,
      });
    }
  });

export type TcpConfig = z.output<typeof tcpConfigSchema>;
export type TcpConfigInput = z.input<typeof tcpConfigSchema>;
