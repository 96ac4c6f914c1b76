import { z } from 'zod';
import { hostname, port, secret } from '../schema.js';

/** A free-space floor: bytes, or a percentage of the share's size. */
export type FreeSpaceFloor =
  { readonly unit: 'bytes'; readonly value: number; readonly text: string } | { readonly unit: 'percent'; readonly value: number; readonly text: string };

const FLOOR = /^\s*(\d+(?:\.\d+)?)\s*(%|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/i;
const MULTIPLIER: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

function freeSpaceFloor(description: string) {
  return z
    .union([z.string(), z.number()])
    .meta({ description: `${description}: "15%" of the share, or an amount such as "50GiB", "500MB" or a number of bytes` })
    .transform((input, ctx): FreeSpaceFloor => {
      const match = FLOOR.exec(String(input));
      if (!match) {
        ctx.addIssue({ code: 'custom', message: `"${input}" is not a free-space floor: use a percentage ("15%") or an amount ("50GiB", "500MB", 1073741824)` });
        return z.NEVER;
      }
      const value = Number(match[1]);
      const unit = (match[2] ?? 'B').toLowerCase();
      if (unit === '%') {
        if (value > 100) {
          ctx.addIssue({ code: 'custom', message: `"${input}" is more than 100%` });
          return z.NEVER;
        }
        return { unit: 'percent', value, text: `${value}%` };
      }
      return { unit: 'bytes', value: Math.round(value * MULTIPLIER[unit]!), text: String(input).trim() };
    });
}

const PATH = /^[^<>:"|?*\x00-\x1f]*$/;

export const smbShareSchema = z
  .strictObject({
    server: hostname().meta({ description: 'file server host name or IP address' }),
    share: z
      .string()
      .min(1)
      .max(80)
      .regex(/^[^\\/\x00-\x1f"*:<>?|[\]+=;,]+$/, 'must be a share name only, without slashes (e.g. "images", not "\\\\server\\images")')
      .meta({ description: 'share name' }),
    path: z
      .string()
      .regex(PATH, 'must be a folder path inside the share without < > : " | ? * or control characters')
      .refine((p) => !p.split(/[\\/]/).includes('..'), 'must not contain ".." segments')
      .default('')
      .meta({ description: 'folder inside the share to list and probe ("" = the share root); / or \\ separators' }),
    port: port().default(445).meta({ description: 'SMB port (Linux agents only; Windows always uses 445)' }),
    username: z.string().min(1).optional().meta({ description: 'user name; absent = guest (Linux) or the agent service account (Windows)' }),
    password: secret('password of username').optional(),
    domain: z.string().min(1).optional().meta({ description: 'domain or workgroup of username' }),
    encryption: z
      .enum(['auto', 'required'])
      .default('auto')
      .meta({ description: 'SMB3 encryption: "auto" uses it when the server requires it; "required" fails when the server cannot' }),
    freeWarning: freeSpaceFloor('WARNING when free space falls below').optional(),
    freeCritical: freeSpaceFloor('CRITICAL when free space falls below').optional(),
    probe: z.boolean().default(false).meta({ description: 'write, read back and delete a small file in path, proving the share is writable' }),
    probeFileName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a plain file name of letters, digits, ".", "_" or "-"')
      .default('.rounds-probe.tmp')
      .meta({ description: 'name of the probe file (a host-specific suffix is added)' }),
  })
  .refine((c) => c.password === undefined || c.username !== undefined, {
    message: 'password needs a username',
    path: ['password'],
  })
  .refine((c) => !(c.freeWarning && c.freeCritical && c.freeWarning.unit === c.freeCritical.unit && c.freeCritical.value > c.freeWarning.value), {
    message: 'freeCritical must not be above freeWarning (both are floors on free space)',
    path: ['freeCritical'],
  });

export type SmbShareConfig = z.output<typeof smbShareSchema>;
