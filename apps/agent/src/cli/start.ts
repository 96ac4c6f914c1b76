import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PluginRegistry } from '#rounds/plugins';
import { certificateFingerprint, RoundsLogger } from '#rounds/common';
import { loadAgentConfig, splitHostPort } from '../config/agent-config.js';
import type { AgentEnv } from '../config/env.js';
import { AgentModule } from '../agent.module.js';
import { AgentGrpcServer } from '../grpc-server.js';
import { loadPluginDir } from '../services/plugin-loader.js';
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
  if (config.pluginDir) {
    await loadPluginDir(config.pluginDir, registry, (level, message) => (level === 'error' ? log.error(message) : log.log(message)));
  }
  const credentials = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }], false);
  const server = new AgentGrpcServer(config.listen, credentials, config.path);
  const app = await NestFactory.createMicroservice(AgentModule.forConfig(config, registry), {
    strategy: server,
    logger: new RoundsLogger(env.logLevel),
  });
  await app.listen();
  const { host } = splitHostPort(config.listen);
  log.log(
    `rounds-agent ${AGENT_VERSION} (${config.id}) listening on ${host}:${server.boundPort} over TLS, ` +
      `certificate sha256 ${certificateFingerprint(cert)}, plugins: ${registry.names().join(', ')}`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.log(`${signal} received: stopping (results not yet collected are kept until the spool is gone)`);
      void app.close().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.log('stopped');
}
