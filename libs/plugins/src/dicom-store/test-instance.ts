// The image a dicom-store check sends: made at run time, tiny, unmistakably a test, and with
// UIDs of its own each run so that the C-FIND can only find what this run stored.
import { randomInt, randomUUID } from 'node:crypto';

/** Secondary Capture Image Storage (PS3.4 B.5): what every PACS accepts, with the fewest required attributes. */
export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

export const TEST_PATIENT_NAME = 'ROUNDS^TEST';

export interface TestUids {
  study: string;
  series: string;
  instance: string;
}

/** A UUID as a DICOM UID under 2.25 (PS3.5 B.2): unique without a registered root. */
function uuidUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/**
 * Fresh study, series and instance UIDs: UUID-derived without a root; under a root, the run's
 * time in ms and a random number (two agents storing in the same millisecond still differ).
 */
export function testUids(root: string | undefined, now: number): TestUids {
  if (root === undefined) return { study: uuidUid(), series: uuidUid(), instance: uuidUid() };
  const run = `${root}.${Math.trunc(now)}.${randomInt(1, 1_000_000_000)}`;
  return { study: `${run}.1`, series: `${run}.2`, instance: `${run}.3` };
}

const two = (n: number) => String(n).padStart(2, '0');

/** DICOM DA and TM of the agent's local time, as a modality would stamp them. */
function dicomDateTime(now: number): { date: string; time: string } {
  const d = new Date(now);
  return {
    date: `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}`,
    time: `${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`,
  };
}

const SIDE = 8;

/** A diagonal gradient: enough to see that a viewer shows the test image the right way up. */
function pixels(): ArrayBuffer {
  const data = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) data[y * SIDE + x] = (x + y) * 18;
  return data.buffer;
}

/**
 * The test image as dcmjs naturalized elements: an 8×8 8-bit monochrome Secondary Capture of
 * the test patient, with every type 1 and type 2 attribute of its modules (PS3.3 A.8.1) so that a
 * strict PACS takes it without a warning. Its descriptions say it is a test and safe to delete.
 */
export function testInstance(uids: TestUids, patientId: string, now: number): Record<string, unknown> {
  const { date, time } = dicomDateTime(now);
  return {
    // dcmjs cannot tell PixelData's VR from the dictionary (OB or OW): say it.
    _vrMap: { PixelData: 'OW' },
    SpecificCharacterSet: 'ISO_IR 100',
    SOPClassUID: SECONDARY_CAPTURE,
    SOPInstanceUID: uids.instance,
    StudyInstanceUID: uids.study,
    SeriesInstanceUID: uids.series,
    PatientName: TEST_PATIENT_NAME,
    PatientID: patientId,
    PatientBirthDate: '',
    PatientSex: 'O',
    StudyDate: date,
    StudyTime: time,
    StudyID: 'ROUNDS',
    AccessionNumber: '',
    ReferringPhysicianName: '',
    StudyDescription: 'Rounds store check - test image, safe to delete',
    Modality: 'OT',
    SeriesNumber: 1,
    SeriesDescription: 'Rounds store check',
    Manufacturer: 'Rounds',
    ConversionType: 'WSD',
    InstanceNumber: 1,
    PatientOrientation: '',
    ContentDate: date,
    ContentTime: time,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: SIDE,
    Columns: SIDE,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [pixels()],
  };
}
