import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeTempDir, requireBinary, startDaemon, tcpAccepts, type Daemon } from './process.js';

export interface StoreScp extends Daemon {
  port: number;
  aet: string;
  /** The folder received objects are written to. */
  received: string;
}

export interface StoreScpOptions {
  aet?: string;
  /** PEM key and certificate: serve DICOM over TLS (dcmtk `+tls`). */
  tls?: { keyPem: string; certPem: string };
  /** More storescp options, e.g. its fault switches `--abort-during` or `--sleep-during 30`. */
  args?: string[];
}

/** dcmtk's storescp: accepts any called AE title and answers C-ECHO (not C-FIND). */
export async function startStoreScp(options: StoreScpOptions = {}): Promise<StoreScp> {
  const command = requireBinary('storescp', 'dcmtk');
  const dir = makeTempDir('storescp');
  const received = join(dir, 'received');
  mkdirSync(received);
  const port = await freePort();
  const aet = options.aet ?? 'STORESCP';
  const args = ['--aetitle', aet, '-od', received];
  if (options.tls) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'key.pem'), options.tls.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'cert.pem'), options.tls.certPem);
    args.push('+tls', join(dir, 'key.pem'), join(dir, 'cert.pem'), '-ic');
  }
  args.push(...(options.args ?? []), String(port));
  const daemon = await startDaemon({ name: 'storescp', command, args, dir, ready: () => tcpAccepts(port) });
  return Object.assign(daemon, { port, aet, received });
}
