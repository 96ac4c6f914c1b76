import { accessSync, constants as fsConstants, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, startDaemon, type Daemon } from './process.js';

/** Debian's own interpreter: python3-hl7 lives in its dist-packages, not in a pyenv or venv ahead of it on PATH. */
const PYTHON = '/usr/bin/python3';
const HL7_MODULE = '/usr/lib/python3/dist-packages/hl7/mllp/__init__.py';
/** The script sits in the source tree; this file runs from dist/test/peers/. */
const SCRIPT = fileURLToPath(new URL('../../../test/peers/hl7-listener.py', import.meta.url));

export interface Hl7Listener extends Daemon {
  port: number;
}

export interface Hl7ListenerOptions {
  /** PEM key and certificate: MLLP over TLS. */
  tls?: { keyPem: string; certPem: string };
}

/**
 * python-hl7's asyncio MLLP server answering with the library's own ACKs
 * (test/peers/hl7-listener.py: the receiving application MSH-5 picks AA, AE, AR, no answer
 * or a wrong control ID). Listens on an ephemeral port of 127.0.0.1 that it writes to a file.
 */
export async function startHl7Listener(options: Hl7ListenerOptions = {}): Promise<Hl7Listener> {
  for (const [file, what] of [
    [PYTHON, 'python3'],
    [HL7_MODULE, 'python3-hl7'],
  ] as const) {
    try {
      accessSync(file, fsConstants.R_OK);
    } catch {
      throw new Error(`test peer "${file}" is not installed: run \`apt-get install ${what}\` (the test script installs it in CI)`);
    }
  }
  const dir = makeTempDir('hl7');
  const portFile = join(dir, 'port');
  const args = [SCRIPT, portFile];
  if (options.tls) {
    writeFileSync(join(dir, 'key.pem'), options.tls.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'cert.pem'), options.tls.certPem);
    args.push('--tls', join(dir, 'cert.pem'), join(dir, 'key.pem'));
  }
  let port = 0;
  const daemon = await startDaemon({
    name: 'hl7-listener.py',
    command: PYTHON,
    args,
    dir,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    ready: () => {
      try {
        port = Number(readFileSync(portFile, 'utf8'));
      } catch {
        // not written yet
      }
      return Promise.resolve(port > 0);
    },
  });
  return Object.assign(daemon, { port });
}
