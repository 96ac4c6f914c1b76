import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { certificateFingerprint } from '#rounds/common';
import { loadAgentConfig, splitHostPort } from '../config/agent-config.js';
import type { AgentEnv } from '../config/env.js';

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/**
 * Is the agent of this config serving? Opens a TLS connection to its listen address and checks
 * that the certificate presented is the config's own — so a health check (container HEALTHCHECK,
 * a service manager, a person) tells "up" from "something else holds the port". It needs no
 * token: the agent keeps only the token's hash, and a handshake proves enough.
 */
export async function checkHealth(configPath: string, env: AgentEnv, timeoutMs: number): Promise<{ ok: boolean; message: string }> {
  const config = loadAgentConfig(configPath, env);
  const own = certificateFingerprint(readFileSync(config.tlsCertPath, 'utf8'));
  const bind = splitHostPort(config.listen);
  const host = WILDCARD.has(bind.host) ? (bind.host === '::' ? '::1' : '127.0.0.1') : bind.host;
  const where = `rounds-agent at ${host.includes(':') ? `[${host}]` : host}:${bind.port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port: bind.port, rejectUnauthorized: false, ALPNProtocols: ['h2'], timeout: timeoutMs });
    const done = (ok: boolean, message: string) => {
      socket.destroy();
      resolve({ ok, message });
    };
    socket.once('timeout', () => done(false, `${where} did not complete a TLS handshake within ${timeoutMs} ms — is it overloaded or stopped?`));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done(
        false,
        e.code === 'ECONNREFUSED' ? `${where} is not listening — is the agent running (rounds-agent start --config ${configPath})?` : `${where}: ${e.message}`,
      ),
    );
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate(false)?.raw;
      const seen = raw ? certificateFingerprint(raw) : 'none';
      if (seen === own) done(true, `${where} is serving (certificate sha256 ${own})`);
      else
        done(
          false,
          `${where} presented certificate ${seen}, not this config's ${own} — another process holds the port, or the agent was re-initialised and not restarted`,
        );
    });
  });
}
