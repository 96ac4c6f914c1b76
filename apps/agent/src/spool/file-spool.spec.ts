import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSpool, SpoolDirError, type FileSpoolOptions } from './file-spool.js';
import { segmentName } from './spool-files.js';
import { LOCK_FILE, SpoolLockedError } from './spool-lock.js';
import { leaveLockAsKilled, ROOMY_LIMITS, seqs, spoolResult } from './testing.js';

const roomy = ROOMY_LIMITS;
const NOW = 1_700_000_000_000;
const result = (checkId: string, startedAtMs = NOW, value = 0.012) => spoolResult(checkId, { startedAtMs, value });
const everything = (spool: FileSpool) => spool.read(0, 1_000_000).results;

class Recorder {
  readonly debug: string[] = [];
  readonly log: string[] = [];
  readonly warn: string[] = [];
  readonly sink = {
    debug: (m: string) => this.debug.push(m),
    log: (m: string) => this.log.push(m),
    warn: (m: string) => this.warn.push(m),
  };
}

describe('FileSpool', () => {
  let root: string;
  let n = 0;
  const freshDir = () => join(root, `case-${++n}`, 'spool');
  const open = (dir: string, extra: Partial<FileSpoolOptions> = {}, log = new Recorder()) =>
    FileSpool.open({ dir, limits: roomy, configPath: '/etc/rounds/agent.yaml', log: log.sink, now: () => NOW, syncIntervalMs: 0, ...extra });
  const segments = (dir: string) => readdirSync(dir).filter((f) => /^seg-\d+\.jsonl$/.test(f));

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'rounds-file-spool-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates its folder readable by the agent only', async () => {
    const dir = freshDir();
    const spool = await open(dir);
    await spool.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it('a new instance on the same folder keeps the epoch, serves what was not acknowledged and numbers on after the highest seq', async () => {
    const dir = freshDir();
    const first = await open(dir);
    const appended = ['pacs-echo', 'web', 'nas', 'pacs-echo', 'web'].map((id) => first.append(result(id)));
    first.ack(2);
    await first.close();

    const second = await open(dir);
    assert.equal(second.epoch, first.epoch);
    assert.deepEqual(everything(second), appended.slice(2), 'acknowledged results were served again, or others lost');
    assert.equal(second.lastSeq, 5);
    assert.equal(second.dropped, 0);
    assert.equal(second.append(result('after-restart')).seq, 6);
    await second.close();

    const third = await open(dir);
    assert.deepEqual(seqs(everything(third)), [3, 4, 5, 6]);
    await third.close();
  });

  it('needs no close(): what a killed process appended is already in the folder', async () => {
    const dir = freshDir();
    const killed = await open(dir);
    killed.append(result('a'));
    killed.append(result('b'));
    leaveLockAsKilled(dir);

    const next = await open(dir);
    assert.deepEqual(
      everything(next).map((r) => [r.seq, r.checkId]),
      [
        [1, 'a'],
        [2, 'b'],
      ],
    );
    assert.equal(next.epoch, killed.epoch);
    await next.close();
    await killed.close();
  });

  it('refuses a folder another agent holds before reading or changing anything in it, naming the folder, the pid and what to do', async () => {
    const dir = freshDir();
    const running = await open(dir);
    running.append(result('a'));
    await running.sync();
    writeFileSync(join(dir, 'state.json.123.tmp'), 'half a state the running agent is writing');
    const before = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
    await assert.rejects(open(dir), (e: Error) => {
      assert.ok(e instanceof SpoolLockedError, String(e));
      assert.equal(
        e.message,
        `spool.dir ${dir} is in use by another rounds-agent (pid ${process.pid}, since ${JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).since}; ` +
          `lock ${join(dir, LOCK_FILE)}): two agents on one spool would hand the collector the same results twice. Stop that agent first ` +
          `(kill ${process.pid}, or systemctl stop rounds-agent), or give this one its own spool.dir and listen address in /etc/rounds/agent.yaml`,
      );
      return true;
    });
    assert.deepEqual(new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))])), before, 'the refused open changed the folder');
    await running.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'close() left the lock behind');
    const after = await open(dir);
    assert.deepEqual(seqs(everything(after)), [1]);
    await after.close();
  });

  it('takes over a lock whose pid no longer runs, with a warning naming the folder and why', async () => {
    const dir = freshDir();
    const first = await open(dir);
    first.append(result('a'));
    const pid = leaveLockAsKilled(dir);
    const log = new Recorder();
    const next = await open(dir, {}, log);
    assert.deepEqual(seqs(everything(next)), [1]);
    assert.deepEqual(log.warn, [
      `spool ${dir}: took over the lock ${join(dir, LOCK_FILE)} left by an agent that did not stop cleanly (no process has pid ${pid} any more)`,
    ]);
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    // The instance presumed dead stops after all: the lock stays with the one that took it over.
    await first.close();
    assert.ok(existsSync(join(dir, LOCK_FILE)), 'the older instance removed the lock it no longer held');
    await assert.rejects(open(dir), SpoolLockedError);
    await next.close();
  });

  it('after an unclean stop numbers on above every seq it may have handed out, even when the last writes never reached the disk', async () => {
    const dir = freshDir();
    const crashed = await open(dir);
    for (const id of ['a', 'b', 'c']) crashed.append(result(id));
    assert.deepEqual(seqs(everything(crashed)), [1, 2, 3], 'the collector has seen seq 3');
    // The folder as an OS crash could leave it: the state (written durably) but not the segment's last line.
    const image = freshDir();
    cpSync(dir, image, { recursive: true });
    const segment = join(image, segments(image)[0]!);
    const lines = readFileSync(segment, 'utf8').split('\n').filter(Boolean);
    writeFileSync(segment, `${lines.slice(0, 2).join('\n')}\n`);

    const next = await open(image);
    assert.deepEqual(seqs(everything(next)), [1, 2]);
    const fresh = next.append(result('d')).seq;
    assert.ok(fresh > 3, `seq ${fresh} was handed out before the crash (as "c"): the collector would skip "d" as a duplicate`);
    assert.equal(next.epoch, crashed.epoch);
    await next.close();
    await crashed.close();
  });

  it('serves no seq beyond the reservation on disk until the state records a new one', async () => {
    const dir = freshDir();
    const spool = await open(dir);
    // Appended in one go, faster than the reservation's state write can land.
    for (let i = 0; i < 10_050; i++) spool.append(result(`c${i % 20}`));
    const before = spool.read(0, 20_000);
    assert.ok(before.more, 'results past the durable reservation were served');
    assert.ok(before.results.length < 10_050);
    await spool.sync();
    const after = spool.read(0, 20_000);
    assert.equal(after.results.length, 10_050);
    assert.equal(after.more, false);
    await spool.close();
    const reopened = await open(dir);
    assert.equal(reopened.append(result('next')).seq, 10_051, 'a clean close lets the next start continue without a gap');
    await reopened.close();
  });

  it('keeps metric values JSON cannot write (NaN, ±Infinity) as they were', async () => {
    const dir = freshDir();
    const first = await open(dir);
    for (const value of [NaN, Infinity, -Infinity, 0.5]) first.append(result('odd', NOW, value));
    await first.close();
    const second = await open(dir);
    assert.deepEqual(
      everything(second).map((r) => r.metrics[0]!.value),
      [NaN, Infinity, -Infinity, 0.5],
    );
    await second.close();
  });

  it('applies the limits to what it replays, counts what they evict as dropped, and does not bring it back later', async () => {
    const dir = freshDir();
    const first = await open(dir);
    for (let i = 1; i <= 10; i++) first.append(result(`c${i}`));
    await first.close();

    const smaller = await open(dir, { limits: { ...roomy, maxResults: 4 } });
    assert.deepEqual(seqs(everything(smaller)), [7, 8, 9, 10]);
    assert.equal(smaller.dropped, 6);
    assert.equal(smaller.append(result('c11')).seq, 11);
    await smaller.close();

    const roomier = await open(dir);
    assert.deepEqual(seqs(everything(roomier)), [8, 9, 10, 11]);
    assert.equal(roomier.dropped, 0, 'results dropped before the restart were counted again');
    await roomier.close();

    const later = await open(dir, { now: () => NOW + 3600_001 });
    assert.deepEqual(everything(later), [], 'results older than maxAge were served after a restart');
    assert.equal(later.dropped, 4);
    assert.equal(later.append(result('c12', NOW + 3600_001)).seq, 12);
    await later.close();
  });

  it('skips a torn last line with a warning and keeps every complete record before it', async () => {
    const dir = freshDir();
    const first = await open(dir);
    for (const id of ['a', 'b', 'c']) first.append(result(id));
    await first.close();
    const [segment] = segments(dir);
    appendFileSync(join(dir, segment!), '{"seq":4,"checkId":"d","startedAt');

    const log = new Recorder();
    const second = await open(dir, {}, log);
    assert.deepEqual(
      everything(second).map((r) => r.checkId),
      ['a', 'b', 'c'],
    );
    assert.equal(log.warn.length, 1, log.warn.join('\n'));
    assert.equal(
      log.warn[0],
      `spool segment ${join(dir, segment!)} ended in a partial record (a write cut short); cut it off, kept the 3 complete results (seq 1–3)`,
    );
    assert.equal(second.append(result('d')).seq, 4);
    assert.ok(!readdirSync(dir).some((f) => f.includes('corrupt')), 'a torn line set the segment aside');
    await second.close();

    const quiet = new Recorder();
    const third = await open(dir, {}, quiet);
    assert.deepEqual(
      everything(third).map((r) => r.checkId),
      ['a', 'b', 'c', 'd'],
    );
    assert.deepEqual(quiet.warn, [], 'the same torn line was reported again');
    await third.close();
  });

  it('sets a damaged segment aside, keeps its readable results and names both', async () => {
    const dir = freshDir();
    const first = await open(dir);
    for (const id of ['a', 'b', 'c', 'd']) first.append(result(id));
    await first.close();
    const [segment] = segments(dir);
    const path = join(dir, segment!);
    const original = readFileSync(path, 'utf8').split('\n');
    original[1] = 'this is not a spool record';
    original[2] = original[2]!.replace('"seq":3', '"seq":1');
    writeFileSync(path, original.join('\n'));

    const log = new Recorder();
    const second = await open(dir, {}, log);
    assert.deepEqual(
      everything(second).map((r) => [r.seq, r.checkId]),
      [
        [1, 'a'],
        [4, 'd'],
      ],
    );
    assert.equal(log.warn.length, 1, log.warn.join('\n'));
    assert.match(
      log.warn[0]!,
      new RegExp(
        `^spool segment ${path} is damaged \\(line 2: .*JSON.* and 1 more lines\\): kept its 2 readable results \\(seq 1–4\\), set the original aside as ${path}\\.corrupt$`,
      ),
    );
    assert.equal(readFileSync(`${path}.corrupt`, 'utf8'), original.join('\n'), 'the damaged original was not kept for inspection');
    assert.equal(second.append(result('e')).seq, 5);
    await second.close();

    const quiet = new Recorder();
    const third = await open(dir, {}, quiet);
    assert.deepEqual(seqs(everything(third)), [1, 4, 5]);
    assert.deepEqual(quiet.warn, [], 'the rewritten segment was found damaged again');
    await third.close();
  });

  it('deletes a segment once every result in it is acknowledged or dropped, and never the one being written', async () => {
    const dir = freshDir();
    // One record per segment makes every step visible.
    const spool = await open(dir, { segmentBytes: 1 });
    for (const id of ['a', 'b', 'c', 'd']) spool.append(result(id));
    await spool.sync();
    assert.deepEqual(segments(dir), [1, 2, 3, 4].map(segmentName));

    spool.ack(2);
    await spool.sync();
    assert.deepEqual(segments(dir), [3, 4].map(segmentName));
    assert.equal(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).ackedSeq, 2);

    spool.ack(4);
    await spool.sync();
    assert.deepEqual(segments(dir), [segmentName(4)], 'the segment still open for appends was deleted');
    await spool.close();
    assert.deepEqual(segments(dir), []);

    const bounded = await open(dir, { segmentBytes: 1, limits: { ...roomy, maxResults: 2 } });
    for (const id of ['e', 'f', 'g', 'h', 'i']) bounded.append(result(id));
    await bounded.sync();
    assert.deepEqual(segments(dir), [4, 5].map(segmentName), 'segments of evicted results were kept');
    assert.equal(bounded.dropped, 3);
    await bounded.close();

    const reopened = await open(dir);
    assert.deepEqual(
      everything(reopened).map((r) => r.checkId),
      ['h', 'i'],
    );
    assert.equal(reopened.lastSeq, 9);
    await reopened.close();
  });

  it('on a full disk keeps results in memory, warns once, retries after the back-off and says when it recovers', async () => {
    const dir = freshDir();
    let now = NOW;
    const log = new Recorder();
    const spool = await open(dir, { now: () => now, retryMs: 5000 }, log);
    // The next two segments it starts are /dev/full: every write fails with a real ENOSPC.
    symlinkSync('/dev/full', join(dir, segmentName(1)));
    symlinkSync('/dev/full', join(dir, segmentName(2)));

    for (const id of ['a', 'b', 'c']) spool.append(result(id));
    assert.equal(log.warn.length, 1, log.warn.join('\n'));
    assert.match(
      log.warn[0]!,
      new RegExp(
        `^spool: cannot write to ${join(dir, segmentName(1))}: ENOSPC: no space left on device, write — results are kept in memory .* ` +
          `trying again every 5 s\\. Free space in ${dir} or fix its permissions \\(spool\\.dir\\)$`,
      ),
    );
    assert.deepEqual(
      everything(spool).map((r) => r.checkId),
      ['a', 'b', 'c'],
    );

    now += 5000;
    spool.append(result('d'));
    assert.equal(log.warn.length, 1, 'a second warning for the same trouble');
    assert.ok(
      log.debug.some((m) => m.includes(`still cannot write to ${join(dir, segmentName(2))}: ENOSPC`)),
      log.debug.join('\n'),
    );

    now += 5000;
    spool.append(result('e'));
    assert.deepEqual(log.log, [`spool: writing to ${dir} again after 10 s; the 5 results held only in memory meanwhile are on disk now`]);
    assert.equal(log.warn.length, 1);
    await spool.close();
    assert.ok(!existsSync(join(dir, segmentName(1))) && !existsSync(join(dir, segmentName(2))), 'the failed segments were left behind');

    const reopened = await open(dir);
    assert.deepEqual(
      everything(reopened).map((r) => [r.seq, r.checkId]),
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
        [4, 'd'],
        [5, 'e'],
      ],
    );
    await reopened.close();
  });

  it('tries the disk once more on close, and warns how many results are lost when it still fails', async () => {
    const dir = freshDir();
    const log = new Recorder();
    const spool = await open(dir, { retryMs: 60_000 }, log);
    symlinkSync('/dev/full', join(dir, segmentName(1)));
    symlinkSync('/dev/full', join(dir, segmentName(2)));
    spool.append(result('a'));
    spool.append(result('b'));
    await spool.close();
    assert.equal(log.warn.length, 2, log.warn.join('\n'));
    assert.match(
      log.warn[1]!,
      new RegExp(`^spool: 2 results never reached ${dir} \\(ENOSPC: no space left on device, write\\) and are lost as the agent stops$`),
    );
  });

  it('sets a damaged state file aside and starts a new epoch, still serving every result in the segments', async () => {
    const dir = freshDir();
    const first = await open(dir);
    for (const id of ['a', 'b', 'c']) first.append(result(id));
    first.ack(1);
    await first.close();
    writeFileSync(join(dir, 'state.json'), '{"format":1,"epo');

    const log = new Recorder();
    const second = await open(dir, {}, log);
    assert.notEqual(second.epoch, first.epoch);
    // Without the state nothing tells which were acknowledged: serving one twice beats losing any.
    assert.deepEqual(seqs(everything(second)), [1, 2, 3]);
    assert.equal(log.warn.length, 1, log.warn.join('\n'));
    assert.match(
      log.warn[0]!,
      new RegExp(`^spool state ${join(dir, 'state.json')} is damaged \\(.*\\); set it aside as state\\.json\\.corrupt and started a new epoch`),
    );
    assert.equal(readFileSync(join(dir, 'state.json.corrupt'), 'utf8'), '{"format":1,"epo');
    await second.close();
  });

  it('refuses to start on a folder it cannot create, naming spool.dir, the path, the OS error and what to do', async () => {
    const parent = join(root, `case-${++n}`);
    mkdirSync(parent);
    writeFileSync(join(parent, 'not-a-folder'), '');
    const dir = join(parent, 'not-a-folder', 'spool');
    await assert.rejects(open(dir), (e: Error) => {
      assert.ok(e instanceof SpoolDirError, String(e));
      assert.equal(
        e.message,
        `spool.dir ${dir} cannot be used: ENOTDIR: not a directory, mkdir '${dir}' — set spool.dir in /etc/rounds/agent.yaml ` +
          "to a folder the agent's user can read and write, such as /var/lib/rounds/spool",
      );
      return true;
    });
  });

  it('refuses to start on a folder the agent may not write', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(root, 0o755);
    chmodSync(join(dir, '..'), 0o755);
    const expected =
      `spool.dir ${dir} cannot be used: EACCES: permission denied, access '${dir}' — set spool.dir in /etc/rounds/agent.yaml ` +
      "to a folder the agent's user can read and write, such as /var/lib/rounds/spool";
    if (process.getuid?.() === 0) {
      // root writes anywhere: open it as an unprivileged user, as the service runs. That user
      // may not be able to read the checkout (a clone in a 0700 temp dir), so it gets its own
      // copy of the spool's modules, whose only other run-time import is the result limits.
      const modules = join(root, 'modules');
      mkdirSync(modules, { mode: 0o755 });
      for (const name of ['file-spool.js', 'memory-spool.js', 'spool-files.js', 'spool-lock.js'])
        copyFileSync(fileURLToPath(new URL(`./${name}`, import.meta.url)), join(modules, name));
      copyFileSync(fileURLToPath(new URL('../../../../libs/common/src/limits.js', import.meta.url)), join(modules, 'limits.js'));
      writeFileSync(join(modules, 'package.json'), JSON.stringify({ type: 'module', imports: { '#rounds/common': './limits.js' } }));
      const module = join(modules, 'file-spool.js');
      const script =
        `const { FileSpool } = await import(${JSON.stringify(module)});` +
        `try { await FileSpool.open({ dir: ${JSON.stringify(dir)}, limits: { maxResults: 100, maxBytes: 65536, maxAgeMs: 1000 }, ` +
        `configPath: '/etc/rounds/agent.yaml', log: console, syncIntervalMs: 0 }); console.log('opened'); } ` +
        `catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
      assert.equal(child.stdout.trim(), `SpoolDirError: ${expected}`, child.stderr);
    } else {
      chmodSync(dir, 0o500);
      await assert.rejects(open(dir), (e: Error) => e instanceof SpoolDirError && e.message === expected);
    }
    assert.deepEqual(readdirSync(dir), [], 'it wrote into the folder anyway');
  });
});
