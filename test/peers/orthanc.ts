import { request } from 'node:http';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeTempDir, requireBinary, startDaemon, type Daemon } from './process.js';

export interface OrthancModality {
  aet: string;
  host: string;
  port: number;
  /** false: Orthanc turns down this modality's C-STORE (its storage presentation contexts). */
  allowStore?: boolean;
}

export interface OrthancOptions {
  aet?: string;
  /** Reject associations whose called AE title is not ours (tests association_rejected). */
  checkCalledAet?: boolean;
  modalities?: Record<string, OrthancModality>;
  username?: string;
  password?: string;
  /**
   * Keep storage and index in this folder instead of the temp dir (stop() leaves it), so that an
   * Orthanc started again on it finds the same data and change log: a restart.
   */
  storageDir?: string;
  /** Load Debian's DICOMweb plugin (orthanc-dicomweb) with QIDO/WADO/STOW-RS under `/dicom-web/`. */
  dicomWeb?: boolean;
  /**
   * Only the modalities in `modalities` may associate (Orthanc's DicomAlwaysAllow* all false):
   * any other calling AE title is rejected as not recognized.
   */
  knownModalitiesOnly?: boolean;
  /** PEM key and certificate: DICOM over TLS (DicomTlsEnabled), no client certificate required. */
  dicomTls?: { keyPem: string; certPem: string };
  /** Serve Modality Worklist C-FIND from the .wl files in this folder (the ModalityWorklists plugin Debian's orthanc ships). */
  worklistFolder?: string;
}

/** Where Debian's orthanc-dicomweb puts the plugin Orthanc loads. */
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
/** The sample worklist provider that Debian's orthanc package itself ships. */
const WORKLISTS_PLUGIN = '/usr/share/orthanc/plugins/libModalityWorklists.so';

export interface Orthanc extends Daemon {
  aet: string;
  dicomPort: number;
  httpPort: number;
  url: string;
  username: string;
  password: string;
  /** Calls Orthanc's REST API as the configured user; resolves to status and parsed body. */
  rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

/** Orthanc with its own storage, index and config in a temp dir; no plugins loaded unless asked for. */
export async function startOrthanc(options: OrthancOptions = {}): Promise<Orthanc> {
  const command = requireBinary('Orthanc', 'orthanc');
  if (options.dicomWeb && !existsSync(DICOMWEB_PLUGIN)) {
    throw new Error(
      `Orthanc's DICOMweb plugin is not installed (${DICOMWEB_PLUGIN}): run \`apt-get install orthanc-dicomweb\` (the test script installs it in CI)`,
    );
  }
  const dir = makeTempDir('orthanc');
  mkdirSync(join(dir, 'db'));
  const dicomPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === dicomPort) httpPort = await freePort();
  const aet = options.aet ?? 'ORTHANC';
  const username = options.username ?? 'rounds';
  const password = options.password ?? 'rounds-test-password';
  const modalities: Record<string, [string, string, number] | { AET: string; Host: string; Port: number; AllowStore: boolean }> = {};
  for (const [id, m] of Object.entries(options.modalities ?? {})) {
    modalities[id] = m.allowStore === undefined ? [m.aet, m.host, m.port] : { AET: m.aet, Host: m.host, Port: m.port, AllowStore: m.allowStore };
  }
  const allow = !options.knownModalitiesOnly;
  let dicomTls: Record<string, unknown> = {};
  if (options.dicomTls) {
    writeFileSync(join(dir, 'dicom-key.pem'), options.dicomTls.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'dicom-cert.pem'), options.dicomTls.certPem);
    dicomTls = {
      DicomTlsEnabled: true,
      DicomTlsPrivateKey: join(dir, 'dicom-key.pem'),
      DicomTlsCertificate: join(dir, 'dicom-cert.pem'),
      // Orthanc wants a trust list even when it asks no client certificate.
      DicomTlsTrustedCertificates: join(dir, 'dicom-cert.pem'),
      DicomTlsRemoteCertificateRequired: false,
    };
  }
  const config = {
    Name: 'rounds-test',
    StorageDirectory: options.storageDir ?? join(dir, 'db'),
    IndexDirectory: options.storageDir ?? join(dir, 'db'),
    Plugins: [...(options.dicomWeb ? [DICOMWEB_PLUGIN] : []), ...(options.worklistFolder ? [WORKLISTS_PLUGIN] : [])],
    ...(options.dicomWeb ? { DicomWeb: { Enable: true, Root: '/dicom-web/' } } : {}),
    ...(options.worklistFolder ? { Worklists: { Enable: true, Database: options.worklistFolder } } : {}),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aet,
    DicomCheckCalledAet: options.checkCalledAet ?? true,
    DicomAlwaysAllowEcho: allow,
    DicomAlwaysAllowFind: allow,
    ...(allow ? {} : { DicomAlwaysAllowStore: false, DicomAlwaysAllowMove: false, DicomAlwaysAllowGet: false, DicomAlwaysAllowFindWorklist: false }),
    ...dicomTls,
    DicomModalities: modalities,
    DicomScuTimeout: 3,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [username]: password },
    ConcurrentJobs: 1,
    SaveJobs: false,
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config, null, 2));

  const rest = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          host: '127.0.0.1',
          port: httpPort,
          method,
          path,
          auth: `${username}:${password}`,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  const daemon = await startDaemon({
    name: 'Orthanc',
    command,
    args: [join(dir, 'orthanc.json')],
    dir,
    ready: async () => (await rest('GET', '/system')).status === 200,
    // Orthanc takes ~3 s to stop cleanly; its data is thrown away, so do not wait for that.
    stopGraceMs: 300,
  });
  return Object.assign(daemon, { aet, dicomPort, httpPort, url: `http://127.0.0.1:${httpPort}`, username, password, rest });
}

/** Stores one tiny generated instance, so study-level C-FIND has a match. */
export async function createStudy(orthanc: Orthanc, tags: Record<string, string> = {}): Promise<void> {
  const res = await orthanc.rest('POST', '/tools/create-dicom', {
    Tags: { PatientName: 'ROUNDS^TEST', PatientID: 'ROUNDS-1', StudyDescription: 'rounds test', ...tags },
  });
  if (res.status !== 200) throw new Error(`Orthanc refused create-dicom: ${res.status} ${JSON.stringify(res.body)}`);
}
