import { ServerCredentials } from '@grpc/grpc-js';
import { FakeAgent, listenEcho } from '../lib/fake-agent.js';
import { serveWorker } from '../lib/processes.js';

/**
 * Many fake agents (one gRPC server each, TLS, own token) in one process, plus optional
 * echo servers for the poll-path anchor. The farm keeps each agent's Collect arrival
 * times so the bench can tell whether any poll was missed.
 */
let agents: FakeAgent[] = [];
let credentials: ServerCredentials | undefined;

function creds(cert: string, key: string): ServerCredentials {
  // rootCerts null makes grpc-js load the whole system CA bundle into every server's
  // SecureContext (~60 ms per bind); client certificates are not checked, so pass one cert.
  credentials ??= ServerCredentials.createSsl(Buffer.from(cert), [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }], false);
  return credentials;
}

serveWorker({
  async agents(args: { cert: string; key: string; tokens: string[] }) {
    const c = creds(args.cert, args.key);
    const fresh = args.tokens.map((t) => new FakeAgent(t));
    const ports: number[] = [];
    // A few binds at a time: thousands at once only queue up in the event loop anyway.
    for (let i = 0; i < fresh.length; i += 50) ports.push(...(await Promise.all(fresh.slice(i, i + 50).map((a) => a.listen(c)))));
    agents.push(...fresh);
    return { ports };
  },
  async echo(args: { cert: string; key: string; count: number; replyBytes: number }) {
    const c = creds(args.cert, args.key);
    const reply = Buffer.alloc(args.replyBytes, 7);
    const ports: number[] = [];
    for (let i = 0; i < args.count; i++) ports.push((await listenEcho(c, reply)).port);
    return { ports };
  },
  /** Per agent (in start order): polls received in [from, to) and the longest gap between polls there. */
  polls(args: { from: number; to: number }) {
    return agents.map((a) => {
      const inWindow = a.arrivals.filter((t) => t >= args.from && t < args.to);
      let maxGap = 0;
      // The gap into the window counts too: a poll missed at the window's start is still missed.
      const before = a.arrivals.filter((t) => t < args.from).at(-1);
      const series = before === undefined ? inWindow : [before, ...inWindow];
      for (let i = 1; i < series.length; i++) maxGap = Math.max(maxGap, series[i]! - series[i - 1]!);
      const after = a.arrivals.find((t) => t >= args.to);
      if (inWindow.length > 0 && after !== undefined) maxGap = Math.max(maxGap, after - inWindow.at(-1)!);
      return { polls: inWindow.length, maxGap, total: a.arrivals.length, last: inWindow.at(-1) };
    });
  },
  /** Every agent of this process stops listening (connections are refused), or listens again on its port. */
  async down(args: { down: boolean }) {
    if (args.down) for (const a of agents) a.kill();
    else for (let i = 0; i < agents.length; i += 50) await Promise.all(agents.slice(i, i + 50).map((a) => a.listen(credentials!, a.port)));
    return { agents: agents.length };
  },
  async close() {
    await Promise.all(agents.map((a) => a.close()));
    agents = [];
    return {};
  },
});
