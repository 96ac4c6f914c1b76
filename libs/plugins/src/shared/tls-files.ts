// The PEM files a TLS client takes — a private CA (a hospital's internal CA) and a client
// certificate — with the same field names, rules and read errors in every plugin that speaks TLS.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export interface TlsFileConfig {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The three optional fields, for a plugin's strictObject. */
export function tlsFileFields() {
  return {
    caFile: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'PEM file of the CA(s) that sign the peer certificate (e.g. the hospital CA); system CAs when absent' }),
    certFile: z.string().min(1).optional().meta({ description: 'PEM client certificate, for peers that require one (with keyFile)' }),
    keyFile: z.string().min(1).optional().meta({ description: 'PEM private key of certFile' }),
  };
}

/** The field and message when certFile and keyFile do not come together; undefined when they do. */
export function certKeyPairIssue(c: TlsFileConfig): { path: string[]; message: string } | undefined {
  if ((c.certFile === undefined) === (c.keyFile === undefined)) return undefined;
  return { path: [c.certFile === undefined ? 'certFile' : 'keyFile'], message: 'certFile and keyFile go together: give both or neither' };
}

/** The names of the TLS file fields that are set, e.g. to refuse them where TLS is off. */
export function setTlsFileFields(c: TlsFileConfig): string[] {
  return (['caFile', 'certFile', 'keyFile'] as const).filter((k) => c[k] !== undefined);
}

export class TlsFileError extends Error {
  constructor(field: string, file: string, cause: Error) {
    super(`cannot read ${field} ${file}: ${cause.message} — check the path and that the agent's user may read it`);
    this.name = 'TlsFileError';
  }
}

const NO_TLS_FILES: TlsMaterial = Object.freeze({});

/** Reads the files that are set; a file that cannot be read is a {@link TlsFileError} naming its field. */
export async function readTlsFiles(c: TlsFileConfig): Promise<TlsMaterial> {
  // Most checks name no file: answer them without a promise per field (this runs on every check).
  if (c.caFile === undefined && c.certFile === undefined && c.keyFile === undefined) return NO_TLS_FILES;
  const read = async (field: keyof TlsFileConfig): Promise<string | undefined> => {
    const file = c[field];
    if (file === undefined) return undefined;
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new TlsFileError(field, file, e as Error);
    }
  };
  const [ca, cert, key] = await Promise.all([read('caFile'), read('certFile'), read('keyFile')]);
  return { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) };
}
