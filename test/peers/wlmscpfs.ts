import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, makeTempDir, requireBinary, startDaemon, tcpAccepts, type Daemon } from './process.js';

const run = promisify(execFile);

/** One scheduled procedure step, as a RIS would put it on a modality's worklist. */
export interface WorklistItem {
  /** Scheduled Station AE Title (0040,0001). */
  station: string;
  /** Modality (0008,0060), e.g. CT. */
  modality: string;
  /** Scheduled Procedure Step Start Date (0040,0002), YYYYMMDD. */
  date: string;
  /** Start time (0040,0003), HHMMSS; 080000 when left out. */
  time?: string;
}

export interface WorklistScp extends Daemon {
  port: number;
  /**
   * Writes `items` as .wl files (made with dump2dcm) into the worklist of the called AE title
   * `aet`, creating it (with its lockfile) if needed; wlmscpfs reads the folder on every query.
   */
  addItems(aet: string, items: readonly WorklistItem[]): Promise<void>;
  /** A worklist folder without its lockfile: wlmscpfs accepts the association but fails every query. */
  addBrokenWorklist(aet: string): void;
}

export interface WorklistScpOptions {
  /** `--sleep-before`: wlmscpfs waits this many seconds before it answers a C-FIND (a stalled provider). */
  sleepBeforeFindSeconds?: number;
}

let fileCounter = 0;

/** One worklist file as dcmtk's dump format, with every attribute wlmscpfs requires of a complete item. */
function itemDump(item: WorklistItem, n: number): string {
  return [
    '(0008,0005) CS [ISO_IR 100]',
    `(0008,0050) SH [ACC${n}]`,
    `(0010,0010) PN [ROUNDS^TEST${n}]`,
    `(0010,0020) LO [RT${n}]`,
    '(0010,0030) DA [19700101]',
    '(0010,0040) CS [O]',
    '(0010,2000) LO',
    '(0010,2110) LO',
    `(0020,000d) UI [1.2.826.0.1.3680043.9.7777.${process.pid}.${n}]`,
    '(0032,1032) PN [REFERRER]',
    '(0032,1060) LO [ROUNDS TEST EXAM]',
    '(0040,0100) SQ',
    '(fffe,e000) -',
    `(0008,0060) CS [${item.modality}]`,
    '(0032,1070) LO',
    `(0040,0001) AE [${item.station}]`,
    `(0040,0002) DA [${item.date}]`,
    `(0040,0003) TM [${item.time ?? '080000'}]`,
    '(0040,0006) PN',
    '(0040,0007) LO [ROUNDS TEST STEP]',
    `(0040,0009) SH [SPS${n}]`,
    '(0040,0010) SH',
    '(0040,0011) SH',
    '(0040,0012) LO',
    '(0040,0400) LT',
    '(fffe,e00d) -',
    '(fffe,e0dd) -',
    `(0040,1001) SH [RP${n}]`,
    '(0040,1003) SH [LOW]',
    '',
  ].join('\n');
}

/**
 * Writes `items` as .wl files (DICOM made with dcmtk's dump2dcm) into `folder`: the worklist
 * files wlmscpfs serves, and Orthanc's ModalityWorklists plugin too.
 */
export async function writeWorklistFiles(folder: string, items: readonly WorklistItem[]): Promise<void> {
  const dump2dcm = requireBinary('dump2dcm', 'dcmtk');
  for (const item of items) {
    const n = ++fileCounter;
    const dump = join(folder, `item${n}.dump`);
    writeFileSync(dump, itemDump(item, n));
    try {
      await run(dump2dcm, ['--quiet', '--write-xfer-little', '-g', dump, join(folder, `item${n}.wl`)]);
    } finally {
      rmSync(dump, { force: true });
    }
  }
}

/**
 * dcmtk's wlmscpfs, the Basic Worklist Management SCP that serves a folder per called AE
 * title. It forks a child per association, as it runs in practice, so a stalled query does
 * not hold up the next association; stop() ends its process group (the children with it).
 */
export async function startWorklistScp(options: WorklistScpOptions = {}): Promise<WorklistScp> {
  const command = requireBinary('wlmscpfs', 'dcmtk');
  const dir = makeTempDir('wlmscpfs');
  const db = join(dir, 'worklists');
  mkdirSync(db);
  const port = await freePort();
  const args = ['--data-files-path', db, '--disable-host-lookup'];
  if (options.sleepBeforeFindSeconds !== undefined) args.push('--sleep-before', String(options.sleepBeforeFindSeconds));
  args.push(String(port));
  const daemon = await startDaemon({ name: 'wlmscpfs', command, args, dir, ready: () => tcpAccepts(port) });

  const folder = (aet: string, lockfile: boolean) => {
    const path = join(db, aet);
    mkdirSync(path, { recursive: true });
    if (lockfile) writeFileSync(join(path, 'lockfile'), '');
    return path;
  };
  const stopParent = daemon.stop.bind(daemon);
  return Object.assign(daemon, {
    port,
    async stop() {
      try {
        // The daemon was started as the leader of its own process group (startDaemon's detached).
        process.kill(-daemon.pid, 'SIGTERM');
      } catch {
        // the group is gone already
      }
      await stopParent();
    },
    addItems: (aet: string, items: readonly WorklistItem[]) => writeWorklistFiles(folder(aet, true), items),
    addBrokenWorklist(aet: string) {
      folder(aet, false);
    },
  });
}
