import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { TEST_ON_POSTGRES } from '../../apps/collector/src/storage/testing.js';
import { FakeBrowser } from '../../apps/collector/src/web/testing.js';
import { startWebhookReceiver } from '../peers/webhook.js';
import { freePort, sleep, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

const POLL_MS = 2000;
/** The lease settings the collectors run with: the defaults for a 2 s poll interval, written out. */
const TTL_MS = 2000;
const RENEW_MS = 1000;
const AGENTS = 6;

interface Lease {
  name: string;
  holder: string;
  epoch: string;
  expires_at: string;
}

function listen(port = 0): Promise<Server> {
  const server = createServer((socket) => socket.end());
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/**
 * High availability with real processes (docs/scaling.md): three collectors on one PostgreSQL
 * share six agents; the leader is killed with SIGKILL under load; its agents and the alert
 * engine move to the others. Nothing the agents measured is lost or stored twice, and the
 * webhook hears each notification once. PostgreSQL by nature: it runs in the PostgreSQL pass.
 */
describe(
  'high availability: three collectors on one PostgreSQL, one killed under load',
  { timeout: 240_000, skip: TEST_ON_POSTGRES ? false : 'several collectors share PostgreSQL: this spec runs in the PostgreSQL pass of npm test' },
  () => {
    const collectors: CollectorHandle[] = [];
    const names = ['north', 'south', 'east'];
    const agents: AgentHandle[] = [];
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    let db: DataSource;
    let healthy: Server;
    let flipPort = 0;
    let flipServer: Server | undefined;
    let victim: CollectorHandle;
    let survivors: CollectorHandle[] = [];
    const byId = new Map<string, CollectorHandle>();

    const leases = async () => db.query<Lease[]>('SELECT name, holder, epoch, expires_at FROM leases WHERE expires_at > 0 ORDER BY name');
    const holders = async () => {
      const now = Date.now();
      const counts = new Map<string, number>();
      for (const l of await leases()) if (l.name.startsWith('agent:') && Number(l.expires_at) > now) counts.set(l.holder, (counts.get(l.holder) ?? 0) + 1);
      return counts;
    };
    const firing = () => receiver.deliveries.filter((d) => d.kind === 'firing');
    const resolved = () => receiver.deliveries.filter((d) => d.kind === 'resolved');

    before(async () => {
      receiver = await startWebhookReceiver();
      const env = (name: string) => ({
        ROUNDS_POLL_INTERVAL_MS: String(POLL_MS),
        ROUNDS_LEASE_TTL_MS: String(TTL_MS),
        ROUNDS_LEASE_RENEW_MS: String(RENEW_MS),
        ROUNDS_COLLECTOR_NAME: name,
        ROUNDS_NOTIFY_RETRY_MS: '500',
        ROUNDS_NOTIFY_MAX_RETRY_MS: '1000',
      });
      collectors.push(await startCollector(env(names[0]!)));
      collectors.push(...(await Promise.all(names.slice(1).map((n) => startCollector(env(n), { shareWith: collectors[0]! })))));
      db = await new DataSource({ type: 'postgres', url: collectors[0]!.env['ROUNDS_DATABASE_URL']! }).initialize();
      for (const row of await db.query<{ id: string; name: string }[]>('SELECT id, name FROM collectors')) {
        byId.set(row.id, collectors[names.indexOf(row.name)]!);
      }
      assert.equal(byId.size, 3, 'three collectors heartbeat');

      healthy = await listen();
      const healthyPort = (healthy.address() as { port: number }).port;
      flipPort = await freePort();
      // One after another: each on a port the OS just handed out, taken before the next is asked for.
      for (let i = 0; i < AGENTS; i++) agents.push(await startAgent(`modality-${i + 1}`));
      // Enrolled and configured on different collectors: the API works on any.
      for (const [i, agent] of agents.entries()) {
        const api = collectors[i % 3]!;
        const enrolled = await api.api('POST', '/api/v1/agents', { name: agent.name, enrol: agent.enrolment });
        assert.equal(enrolled.status, 201, `${agent.name} on ${api.env['ROUNDS_COLLECTOR_NAME']}: ${JSON.stringify(enrolled.body)}`);
        for (const n of [1, 2]) {
          const made = await api.api('POST', '/api/v1/checks', {
            agent: agent.name,
            name: `port ${n}`,
            plugin: 'tcp',
            config: { host: '127.0.0.1', port: healthyPort },
            intervalMs: 1000,
            timeoutMs: 1000,
          });
          assert.equal(made.status, 201, JSON.stringify(made.body));
        }
      }
      const channel = await collectors[1]!.api('POST', '/api/v1/channels', { name: 'ward hook', type: 'webhook', config: { url: receiver.url } });
      assert.equal(channel.status, 201, JSON.stringify(channel.body));
      // Nobody listens on this port yet: the check fails, its alert fires; it resolves after the kill.
      const flip = await collectors[2]!.api('POST', '/api/v1/checks', {
        agent: agents[0]!.name,
        name: 'Archive port',
        plugin: 'tcp',
        config: { host: '127.0.0.1', port: flipPort },
        intervalMs: 1000,
        timeoutMs: 1000,
      });
      assert.equal(flip.status, 201, JSON.stringify(flip.body));
    });

    after(async () => {
      await Promise.all([...collectors.map((c) => c.proc?.stop()), ...agents.map((a) => a.proc?.stop())]);
      await db?.destroy();
      await receiver?.close();
      healthy?.close();
      flipServer?.close();
    });

    it('each agent is held by one collector, two each, and the alert fires once', async () => {
      const spread = await waitFor(
        'six agents held, two by each collector',
        async () => {
          const counts = await holders();
          const values = [...counts.values()].sort();
          return counts.size === 3 && values.join() === '2,2,2' ? counts : undefined;
        },
        60_000,
      );
      console.log(`agents per collector: ${[...spread].map(([id, n]) => `${byId.get(id)!.env['ROUNDS_COLLECTOR_NAME']} ${n}`).join(', ')}`);
      await waitFor('the Archive port alert on the webhook', () => firing()[0], 60_000);
      await waitFor('results of every agent', async () => {
        const rows = await db.query<{ n: string }[]>('SELECT count(DISTINCT agent_id) AS n FROM check_results');
        return Number(rows[0]!.n) === AGENTS;
      });
    });

    it('SIGKILL of the leader: its agents and the alert engine move to the others within two poll intervals', async () => {
      const leader = (await leases()).find((l) => l.name === 'leader')!;
      victim = byId.get(leader.holder)!;
      survivors = collectors.filter((c) => c !== victim);
      const victimAgents = (await leases()).filter((l) => l.holder === leader.holder && l.name.startsWith('agent:')).map((l) => l.name.slice(6));
      assert.equal(victimAgents.length, 2);

      await sleep(3000); // under load: results flowing through all three
      const killedAt = Date.now();
      await victim.proc.kill();

      const takeover = await waitFor(
        "the victim's agents held by the others",
        async () => {
          const live = await leases();
          const now = Date.now();
          const moved = victimAgents.every((id) => live.some((l) => l.name === `agent:${id}` && l.holder !== leader.holder && Number(l.expires_at) > now));
          return moved ? Date.now() - killedAt : undefined;
        },
        30_000,
      );
      const newLeader = await waitFor('a new leader', async () =>
        (await leases()).find((l) => l.name === 'leader' && l.holder !== leader.holder && Number(l.expires_at) > Date.now()),
      );
      const polled = await waitFor(
        "new results of the victim's agents",
        async () => {
          const rows = await db.query<{ n: string }[]>('SELECT count(DISTINCT agent_id) AS n FROM check_results WHERE agent_id = ANY($1) AND started_at > $2', [
            victimAgents,
            killedAt + TTL_MS,
          ]);
          return Number(rows[0]!.n) === victimAgents.length ? Date.now() - killedAt : undefined;
        },
        30_000,
      );
      console.log(
        `killed ${victim.env['ROUNDS_COLLECTOR_NAME']} (the leader): leases moved after ${takeover} ms, results of its agents stored again after ${polled} ms, ` +
          `new leader ${byId.get(newLeader.holder)!.env['ROUNDS_COLLECTOR_NAME']} (lease ttl ${TTL_MS} ms, renewed every ${RENEW_MS} ms, poll interval ${POLL_MS} ms)`,
      );
      // Design bound: the lease runs out ttl after its last renewal, a survivor claims it at its next round.
      assert.ok(takeover <= 2 * POLL_MS + RENEW_MS, `taken over in ${takeover} ms`);
      // Read between renewals a lease may just have run out by the test's clock: the spread settles within a round or two.
      await waitFor('the six agents spread over the two survivors, three each', async () => [...(await holders()).values()].sort().join() === '3,3', 10_000);
    });

    it('after the kill the new leader resolves the alert: every notification reached the webhook once', async () => {
      flipServer = await listen(flipPort);
      await waitFor('"resolved" on the webhook', () => resolved()[0], 60_000);
      await sleep(2 * POLL_MS);
      const keys = receiver.deliveries.map((d) => d.key);
      assert.equal(new Set(keys).size, keys.length, `no notification twice: ${keys.join(', ')}`);
      assert.equal(firing().length, 1, 'one "firing"');
      assert.equal(resolved().length, 1, 'one "resolved"');
    });

    it("no result lost, none stored twice: each agent's sequence numbers are contiguous up to its acknowledgement", async () => {
      await sleep(2 * POLL_MS);
      const rows = await db.query<{ agent_id: string; seq: string }[]>('SELECT agent_id, seq FROM check_results WHERE seq > 0 ORDER BY agent_id, seq');
      const acks = new Map((await db.query<{ id: string; ack_seq: string }[]>('SELECT id, ack_seq FROM agents')).map((a) => [a.id, Number(a.ack_seq)]));
      const seqs = new Map<string, number[]>();
      for (const r of rows) seqs.set(r.agent_id, [...(seqs.get(r.agent_id) ?? []), Number(r.seq)]);
      assert.equal(seqs.size, AGENTS);
      let total = 0;
      for (const [agentId, list] of seqs) {
        total += list.length;
        assert.equal(new Set(list).size, list.length, `agent ${agentId}: a sequence number stored twice`);
        const gaps = list.filter((s, i) => i > 0 && s !== list[i - 1]! + 1);
        assert.deepEqual(gaps, [], `agent ${agentId}: results missing before ${gaps.join(', ')}`);
        assert.equal(list[0], 1, `agent ${agentId}: stored from its first result`);
        // Results of a poll that commits while we read may be past the ack we read first.
        assert.ok(list.at(-1)! >= acks.get(agentId)!, `agent ${agentId}: stored up to ${list.at(-1)}, acknowledged ${acks.get(agentId)}`);
      }
      console.log(`${total} results of ${AGENTS} agents, none missing, none twice`);
    });

    it('sessions, pages and the API work on any collector: signed in on one, the same cookie is signed in on the other', async () => {
      const [a, b] = survivors as [CollectorHandle, CollectorHandle];
      const user = await b.api<{ password: string }>('POST', '/api/v1/users', { name: 'night-nurse', role: 'viewer' });
      assert.equal(user.status, 201);
      const onA = new FakeBrowser(a.url);
      const signIn = await onA.signIn('night-nurse', user.body.password);
      assert.equal(signIn.location, '/sign-in/password', 'a made-up password is changed first');

      // The next step on the other collector, as a load balancer in front of both may send it.
      const onB = new FakeBrowser(b.url);
      onB.cookie = onA.cookie;
      assert.equal((await onB.get('/sign-in/password')).status, 200, 'the session made on one collector is good on the other');
      const changed = await onB.post('/sign-in/password', { password: 'a long and private phrase', confirm: 'a long and private phrase' });
      assert.equal(changed.status, 303, changed.text.slice(0, 300));
      onA.cookie = onB.cookie; // the new session id
      const page = await onA.get('/');
      assert.equal(page.status, 200, 'signed in on the first collector by the step made on the second');
      assert.match(page.text, /night-nurse/);
      await onB.get('/');
      assert.equal((await onB.post('/sign-out')).status, 303, 'signed out on the other (its CSRF token)');
      const after = await onA.get('/');
      assert.equal(after.status, 303, 'signed out everywhere');
      assert.match(after.location ?? '', /sign-in/);
    });
  },
);
