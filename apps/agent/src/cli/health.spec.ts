import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '#rounds/common';
import { checkHealth } from './health.js';
import { initAgent } from './init.js';

const noEnv = { logLevel: 'log' } as const;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('rounds-agent health', () => {
  let dir: string;
  let configPath: string;
  let port: number;
  let server: Server | undefined;

  const serve = async (cert: string, key: string) => {
    server = createTlsServer({ cert, key, ALPNProtocols: ['h2'] }, (s) => s.end());
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rounds-health-'));
    configPath = join(dir, 'agent.yaml');
    port = await freePort();
    await initAgent({ configPath, listen: `127.0.0.1:${port}`, force: false });
  });
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not ok when nothing listens, saying how to start the agent', async () => {
    const r = await checkHealth(configPath, noEnv, 2_000);
    assert.equal(r.ok, false);
    assert.match(r.message, new RegExp(`rounds-agent at 127\\.0\\.0\\.1:${port} is not listening — is the agent running \\(rounds-agent start --config `));
  });

  it('is not ok when another certificate answers on the port, naming both fingerprints', async () => {
    const other = await selfSignedCertificate('impostor', ['localhost']);
    await serve(other.cert, other.key);
    try {
      const r = await checkHealth(configPath, noEnv, 2_000);
      assert.equal(r.ok, false);
      assert.match(r.message, /presented certificate [0-9a-f]{64}, not this config's [0-9a-f]{64} — another process holds the port/);
    } finally {
      await new Promise((resolve) => server!.close(resolve));
    }
  });

  it("is ok when the config's own certificate answers", async () => {
    await serve(readFileSync(join(dir, 'agent.crt'), 'utf8'), readFileSync(join(dir, 'agent.key'), 'utf8'));
    const r = await checkHealth(configPath, noEnv, 2_000);
    assert.equal(r.ok, true, r.message);
    assert.match(r.message, /is serving \(certificate sha256 [0-9a-f]{64}\)/);
  });

  it('names the config file when it cannot be read', async () => {
    await assert.rejects(checkHealth(join(dir, 'missing.yaml'), noEnv, 2_000), /cannot read agent config .*missing\.yaml/);
  });
});
