// Deleting the test study again, through the REST API of the Orthanc that received it: a check
// every minute would otherwise leave 1,440 test studies a day in the PACS.
import { OrthancClient, OrthancError } from '../orthanc/orthanc.client.js';
import { readTlsFiles, TlsFileError } from '../shared/tls-files.js';
import type { DicomStoreConfig } from './dicom-store.schema.js';

type CleanupConfig = NonNullable<DicomStoreConfig['cleanup']>;

export type CleanupResult = { ok: true; deleted: number } | { ok: false; text: string };

/**
 * Finds the study by its StudyInstanceUID (`/tools/find`) and deletes it (`DELETE /studies/{id}`).
 * Never throws: what went wrong is said in words for the check's summary.
 */
export async function deleteTestStudy(cleanup: CleanupConfig, studyUid: string, calledAet: string, signal: AbortSignal): Promise<CleanupResult> {
  let ca: string | undefined;
  try {
    ca = (await readTlsFiles({ caFile: cleanup.caFile })).ca;
  } catch (e) {
    return { ok: false, text: e instanceof TlsFileError ? `cleanup.${e.message}` : String(e) };
  }
  const client = new OrthancClient({
    url: cleanup.url,
    ...(cleanup.username === undefined ? {} : { username: cleanup.username, password: cleanup.password }),
    ...(ca === undefined ? {} : { ca }),
    verifyTls: cleanup.verifyTls,
    signal,
  });
  try {
    const ids = await client.post<unknown>('/tools/find', { Level: 'Study', Query: { StudyInstanceUID: studyUid } });
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
      return { ok: false, text: `POST /tools/find at ${cleanup.url} did not answer a list of study ids (is it Orthanc?)` };
    }
    if (ids.length === 0) {
      return { ok: false, text: `the Orthanc at ${cleanup.url} has no study ${studyUid}: is cleanup.url the Orthanc that ${calledAet} names?` };
    }
    for (const id of ids) await client.delete(`/studies/${encodeURIComponent(id)}`);
    return { ok: true, deleted: ids.length };
  } catch (e) {
    if (e instanceof OrthancError) return { ok: false, text: e.message };
    throw e;
  }
}
