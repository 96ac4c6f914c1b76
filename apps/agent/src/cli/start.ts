import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { ServerCredentials } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PluginRegistry } from '#rounds/plugins';
import { certificateFingerprint, RoundsLogger, systemClock, untilStopped } from '#rounds/common';
import { loadAgentConfig, splitHostPort } from '../config/agent-config.js';
import type { AgentEnv } from '../config/env.js';
import { AgentModule } from '../agent.module.js';
import { TokenGuard } from '../controllers/token.guard.js';
import { TokenKeeper } from '../services/token-keeper.js';
import { SiteKeyClaims } from '../services/site-key-claims.js';
import { AgentGrpcServer } from '../grpc-server.js';
import { WindowsEventLog } from '../repositories/event-log.repository.js';
import { customPluginSources, loadCustomPlugins } from '../repositories/plugin-files.repository.js';
import { FileSpool } from '../spool/file-spool.js';
import { ROUNDS_VERSION as AGENT_VERSION } from '#rounds/common';

/** Starts the agent and resolves when it has been told to stop and has stopped. */
export async function startAgent(configPath: string, env: AgentEnv): Promise<void> {
  const log = new Logger('Agent');
  const config = loadAgentConfig(configPath, env);
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(config.tlsCertPath, 'utf8');
    key = readFileSync(config.tlsKeyPath, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the TLS certificate/key named in ${config.path}: ${(e as Error).message}`);
  }
  const registry = PluginRegistry.withBuiltins({ nagiosCommands: config.nagios.commands });
  await loadCustomPlugins(customPluginSources(config, env), registry, (level, message) => (level === 'error' ? log.error(message) : log.log(message)));
  // The app's logger, not Nest's default: the spool logs its replay before the app exists, and must honour the log level.
  // As a Windows service (its WinSW definition sets ROUNDS_AGENT_EVENT_LOG) errors also go to the Event Log.
  const eventLog = process.platform === 'win32' && env.eventLogSource ? new WindowsEventLog(env.eventLogSource, join(dirname(config.path), 'logs')) : undefined;
  const logger = new RoundsLogger(env.logLevel, eventLog && ((line) => eventLog.error(line)));
  const spool = await FileSpool.open({
    dir: config.spoolDir,
    configPath: config.path,
    limits: { maxResults: config.spool.maxResults, maxBytes: config.spool.maxBytes, maxAgeMs: config.spool.maxAgeHours * 3600_000 },
    log: { debug: (m) => logger.debug(m, 'Spool'), log: (m) => logger.log(m, 'Spool'), warn: (m) => logger.warn(m, 'Spool') },
  });
  const credentials = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }], false);
  const tokens = new TokenKeeper(config.path, config, config.tokenFromEnv, { log: (l) => logger.log(l, 'Auth'), error: (l) => logger.error(l, 'Auth') });
  const guard = new TokenGuard(tokens, systemClock, (line) => logger.warn(line, 'Auth'));
  const fingerprint = certificateFingerprint(cert);
  const claims = new SiteKeyClaims(
    { agentId: config.id, certificateSha256: fingerprint, hostname: hostname(), version: AGENT_VERSION },
    config.siteKeyVerifier,
    tokens,
    systemClock,
    (line) => logger.warn(line, 'Auth'),
  );
  const server = new AgentGrpcServer(config.listen, credentials, config.path, [guard.interceptor]);
  let app: Awaited<ReturnType<typeof NestFactory.createMicroservice>>;
  try {
    app = await NestFactory.createMicroservice(AgentModule.forConfig(config, registry, spool, tokens, claims), {
      strategy: server,
      logger,
    });
    await app.listen();
  } catch (e) {
    await spool.close();
    throw e;
  }
  const { host } = splitHostPort(config.listen);
  // Signal handlers first: whoever waits for "listening" may stop the agent at once.
  const stopped = untilStopped(log, async (signal) => {
    log.log(`${signal} received: stopping (results not yet collected stay in ${config.spoolDir} for the next start)`);
    // The checks stop first (the last results land in the spool), then the spool flushes to disk.
    await app.close().catch((e: unknown) => log.error(`stopping: ${(e as Error).message}`));
    await registry.close();
    guard.close();
    claims.close();
    await tokens.settled();
    await spool.close().catch((e: unknown) => log.error(`closing the spool: ${(e as Error).message}`));
  });
  log.log(
    `rounds-agent ${AGENT_VERSION} (${config.id}) listening on ${host}:${server.boundPort} over TLS, ` +
      `certificate sha256 ${fingerprint}, plugins: ${registry.names().join(', ')}`,
  );
  if (claims.claimable) {
    log.log(`waiting to be claimed by a collector holding the site key (agent ${config.id}); until then it answers no call that needs a token`);
  }
  await stopped;
  log.log('stopped');
}
