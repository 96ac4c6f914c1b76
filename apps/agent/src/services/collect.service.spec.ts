import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { COLLECT_LIMITS, ManualClock, resultWireBytes } from '#rounds/common';
import { CollectRequest, type CheckSpec } from '#rounds/common/wire';
import { PluginRegistry } from '#rounds/plugins';
import type { AgentConfig } from '../config/agent-config.js';
import { FileSpool } from '../spool/file-spool.js';
import { MemorySpool } from '../spool/memory-spool.js';
import type { Spool } from '../spool/spool.js';
import { ROOMY_LIMITS, seqs, spoolResult } from '../spool/testing.js';
import { ChecksService } from './checks.service.js';
import { CollectService } from './collect.service.js';
import { HealthService } from './health.service.js';

const CONFIG_PATH = '/etc/rounds/agent.yaml';
// Recent: the spool limits evict results older than maxAgeMs.
const NOW = Date.now();

const tcp = (id: string, port = 104): CheckSpec => ({
  id,
  plugin: 'tcp',
  configJson: JSON.stringify({ host: '127.0.0.1', port }),
  intervalMs: 10_000,
  timeoutMs: 2000,
});

function appendResults(spool: Spool, count: number, summary?: string): void {
  for (let i = 0; i < count; i++) spool.append(spoolResult(`check-${i}`, { startedAtMs: NOW + i, summary }));
}

describe('CollectService.collect (config hand-over, acknowledgement and the spool page)', () => {
  const started: ChecksService[] = [];
  afterEach(async () => {
    for (const checks of started.splice(0)) await checks.onModuleDestroy();
  });

  // A manual clock that is never advanced: assigned checks are scheduled, none runs.
  function agent(options: { spool?: Spool; collectMaxResults?: number } = {}) {
    const config = {
      path: CONFIG_PATH,
      checks: { concurrency: 4, maxChecks: 1000, minIntervalMs: 1000 },
      collect: { maxResults: options.collectMaxResults ?? 5000 },
    } as AgentConfig;
    const spool = options.spool ?? new MemorySpool(ROOMY_LIMITS);
    const checks = new ChecksService(config, PluginRegistry.withBuiltins(), spool, new ManualClock(NOW));
    started.push(checks);
    return { spool, checks, service: new CollectService(config, spool, checks, new HealthService(spool, checks)) };
  }

  describe('acknowledgement by spool epoch', () => {
    it('an ack from another spool epoch discards nothing and the page starts at the oldest result', () => {
      const { spool, service } = agent();
      appendResults(spool, 3);
      const answer = service.collect(CollectRequest.fromPartial({ spoolEpoch: 'epoch-before-a-restart', ackSeq: 2 }));
      assert.deepEqual(seqs(answer.results), [1, 2, 3]);
      assert.equal(spool.depth, 3);
      assert.equal(answer.spoolEpoch, spool.epoch);
    });

    it('a first contact (no epoch yet) with a non-zero ack discards nothing', () => {
      const { spool, service } = agent();
      appendResults(spool, 2);
      assert.deepEqual(seqs(service.collect(CollectRequest.fromPartial({ ackSeq: 2 })).results), [1, 2]);
      assert.equal(spool.depth, 2);
    });

    it("an ack in the spool's epoch discards the acknowledged results and serves the ones after it in seq order", () => {
      const { spool, service } = agent();
      appendResults(spool, 5);
      const answer = service.collect(CollectRequest.fromPartial({ spoolEpoch: spool.epoch, ackSeq: 2 }));
      assert.deepEqual(seqs(answer.results), [3, 4, 5]);
      assert.deepEqual(
        answer.results.map((r) => r.checkId),
        ['check-2', 'check-3', 'check-4'],
      );
      assert.equal(answer.more, false);
      assert.equal(spool.depth, 3);
      assert.equal(answer.lastSeq, 5);
    });

    describe('with the file spool', () => {
      let root: string;
      before(() => {
        root = mkdtempSync(join(tmpdir(), 'rounds-collect-'));
      });
      after(() => rmSync(root, { recursive: true, force: true }));
      const quiet = { debug: () => {}, log: () => {}, warn: () => {} };
      const open = (dir: string) => FileSpool.open({ dir, limits: ROOMY_LIMITS, configPath: CONFIG_PATH, log: quiet, now: () => NOW, syncIntervalMs: 0 });

      it('an ack sent before an agent restart still applies after it, because the spool folder keeps its epoch', async () => {
        const dir = join(root, 'restarted');
        const first = await open(dir);
        appendResults(first, 4);
        const beforeRestart = agent({ spool: first }).service.collect(CollectRequest.fromPartial({}));
        await first.close();
        const reopened = await open(dir);
        try {
          const answer = agent({ spool: reopened }).service.collect(CollectRequest.fromPartial({ spoolEpoch: beforeRestart.spoolEpoch, ackSeq: 3 }));
          assert.deepEqual(seqs(answer.results), [4]);
          assert.equal(answer.spoolEpoch, beforeRestart.spoolEpoch);
        } finally {
          await reopened.close();
        }
      });

      it('an ack for another spool folder (a new epoch) discards none of the new results', async () => {
        const old = await open(join(root, 'old'));
        const oldEpoch = old.epoch;
        await old.close();
        const fresh = await open(join(root, 'fresh'));
        try {
          appendResults(fresh, 2);
          const answer = agent({ spool: fresh }).service.collect(CollectRequest.fromPartial({ spoolEpoch: oldEpoch, ackSeq: 2 }));
          assert.deepEqual(seqs(answer.results), [1, 2]);
          assert.notEqual(answer.spoolEpoch, oldEpoch);
        } finally {
          await fresh.close();
        }
      });
    });
  });

  describe('the page', () => {
    it("caps the collector's maxResults at collect.maxResults from the agent's config, and sets more", () => {
      const { spool, service } = agent({ collectMaxResults: 3 });
      appendResults(spool, 5);
      const answer = service.collect(CollectRequest.fromPartial({ spoolEpoch: spool.epoch, maxResults: 10 }));
      assert.deepEqual(seqs(answer.results), [1, 2, 3]);
      assert.equal(answer.more, true);
    });

    it("takes a maxResults of 0 as the agent's own cap", () => {
      const { spool, service } = agent({ collectMaxResults: 3 });
      appendResults(spool, 5);
      assert.deepEqual(seqs(service.collect(CollectRequest.fromPartial({ spoolEpoch: spool.epoch, maxResults: 0 })).results), [1, 2, 3]);
    });

    it("serves a maxResults below the agent's cap as asked", () => {
      const { spool, service } = agent({ collectMaxResults: 3 });
      appendResults(spool, 5);
      const answer = service.collect(CollectRequest.fromPartial({ spoolEpoch: spool.epoch, maxResults: 2 }));
      assert.deepEqual(seqs(answer.results), [1, 2]);
      assert.equal(answer.more, true);
    });

    it('ends a page before its results pass COLLECT_LIMITS.resultBytes, sets more, and the next page carries on after it', () => {
      const { spool, service } = agent();
      // About 12 kB each on the wire (a three-byte character 4000 times): some 350 fit a page.
      appendResults(spool, 500, '€'.repeat(4000));
      const first = service.collect(CollectRequest.fromPartial({ spoolEpoch: spool.epoch }));
      const bytes = first.results.reduce((sum, r) => sum + resultWireBytes(r), 0);
      assert.ok(first.results.length > 1 && first.results.length < 500, `${first.results.length} results in the page`);
      assert.ok(bytes <= COLLECT_LIMITS.resultBytes, `${bytes} bytes in the page`);
      const next = spool.read(first.results.at(-1)!.seq, 1).results[0]!;
      assert.ok(bytes + resultWireBytes(next) > COLLECT_LIMITS.resultBytes, 'the page stopped while the next result still fitted');
      assert.equal(first.more, true);
      const second = service.collect(CollectRequest.fromPartial({ spoolEpoch: spool.epoch, ackSeq: first.results.at(-1)!.seq }));
      assert.equal(second.results[0]!.seq, first.results.at(-1)!.seq + 1);
    });

    it('reports the last seq, the results dropped by the spool limits and the spool depth when nothing is left to serve', () => {
      const { spool, service } = agent({ spool: new MemorySpool({ ...ROOMY_LIMITS, maxResults: 2 }) });
      appendResults(spool, 5);
      const answer = service.collect(CollectRequest.fromPartial({ spoolEpoch: spool.epoch, ackSeq: 5 }));
      assert.deepEqual(answer.results, []);
      assert.equal(answer.more, false);
      assert.equal(answer.lastSeq, 5);
      assert.equal(answer.dropped, 3);
      assert.equal(answer.health?.spoolDepth, 0);
    });
  });

  describe('the check set', () => {
    it('applies a check set whose version differs from the running one and returns the checks it refused, naming the field', () => {
      const { checks, service } = agent();
      const answer = service.collect(CollectRequest.fromPartial({ assignmentVersion: 'v1', hasChecks: true, checks: [tcp('fine'), tcp('no-port', 0)] }));
      assert.equal(answer.rejected.length, 1);
      assert.equal(answer.rejected[0]!.checkId, 'no-port');
      assert.match(answer.rejected[0]!.error, /^port: /);
      assert.equal(answer.assignmentVersion, 'v1');
      assert.equal(checks.checkCount, 1);
    });

    it('does not apply the same version again, whatever checks come with it', () => {
      const { checks, service } = agent();
      service.collect(CollectRequest.fromPartial({ assignmentVersion: 'v1', hasChecks: true, checks: [tcp('fine')] }));
      const again = service.collect(
        CollectRequest.fromPartial({ assignmentVersion: 'v1', hasChecks: true, checks: [tcp('fine'), tcp('other'), tcp('no-port', 0)] }),
      );
      assert.deepEqual(again.rejected, []);
      assert.equal(checks.checkCount, 1);
      assert.equal(again.assignmentVersion, 'v1');
    });

    it('applies an empty check set when hasChecks says it is one, stopping every check', () => {
      const { checks, service } = agent();
      service.collect(CollectRequest.fromPartial({ assignmentVersion: 'v1', hasChecks: true, checks: [tcp('a'), tcp('b')] }));
      const answer = service.collect(CollectRequest.fromPartial({ assignmentVersion: 'v2', hasChecks: true, checks: [] }));
      assert.equal(answer.assignmentVersion, 'v2');
      assert.equal(checks.checkCount, 0);
    });

    it('ignores a new version that comes without hasChecks: the agent keeps running what it has', () => {
      const { checks, service } = agent();
      service.collect(CollectRequest.fromPartial({ assignmentVersion: 'v1', hasChecks: true, checks: [tcp('a')] }));
      const answer = service.collect(CollectRequest.fromPartial({ assignmentVersion: 'v2', hasChecks: false }));
      assert.equal(answer.assignmentVersion, 'v1');
      assert.equal(checks.checkCount, 1);
    });
  });
});
