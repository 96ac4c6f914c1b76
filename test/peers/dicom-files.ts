import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import dimse from 'dcmjs-dimse';
import { makeTempDir } from './process.js';
import type { Orthanc } from './orthanc.js';

const { Dataset } = dimse;

/** Secondary Capture Image Storage: an image SOP class every archive accepts, made by no modality. */
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

export interface DicomInstance {
  /** The DICOM Part 10 file. */
  file: Buffer;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/**
 * A small DICOM Part 10 file made now (no pixel data: the archives under test index and serve
 * metadata), with fresh UIDs unless `tags` names them. `tags` are DICOM keywords and values.
 */
export async function makeInstance(tags: Record<string, string> = {}): Promise<DicomInstance> {
  const uids = {
    StudyInstanceUID: Dataset.generateDerivedUid(),
    SeriesInstanceUID: Dataset.generateDerivedUid(),
    SOPInstanceUID: Dataset.generateDerivedUid(),
  };
  const elements = {
    SOPClassUID: SECONDARY_CAPTURE,
    ...uids,
    PatientName: 'ROUNDS^TEST',
    PatientID: 'ROUNDS-1',
    StudyDate: '20260101',
    StudyDescription: 'rounds test',
    Modality: 'OT',
    SeriesNumber: '1',
    InstanceNumber: '1',
    ...tags,
  };
  const dir = makeTempDir('dicom');
  const path = join(dir, 'instance.dcm');
  try {
    await new Promise<void>((resolve, reject) => new Dataset(elements, EXPLICIT_VR_LITTLE_ENDIAN).toFile(path, (e) => (e ? reject(e) : resolve())));
    return {
      file: await readFile(path),
      studyInstanceUid: elements.StudyInstanceUID,
      seriesInstanceUid: elements.SeriesInstanceUID,
      sopInstanceUid: elements.SOPInstanceUID,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Uploads a DICOM file through Orthanc's REST API (POST /instances), as a modality's router would; resolves to Orthanc's instance id. */
export function storeInstance(orthanc: Orthanc, file: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: orthanc.httpPort,
        method: 'POST',
        path: '/instances',
        auth: `${orthanc.username}:${orthanc.password}`,
        headers: { 'content-type': 'application/dicom', 'content-length': file.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`Orthanc refused POST /instances: ${res.statusCode} ${text}`));
          const body = JSON.parse(text) as { ID?: string; Status?: string };
          if (body.Status !== 'Success' || !body.ID) return reject(new Error(`Orthanc did not store the instance: ${text}`));
          resolve(body.ID);
        });
      },
    );
    req.on('error', reject);
    req.end(file);
  });
}
