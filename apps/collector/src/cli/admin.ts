import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { CollectorConfig } from '../config/env.js';
import { CollectorModule } from '../collector.module.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { keyCreatedNotice, secretBoxOf } from '../storage/secret-box.js';
import { AgentsService } from '../inventory/agents.service.js';
import { enrolAgentDto } from '../inventory/agents.dto.js';
import { ChecksService } from '../inventory/checks.service.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { createCheckDto } from '../inventory/checks.dto.js';
import { parseDto } from '../shared/dto.js';
import { ValidationFailedError } from '../shared/errors.js';
import { formatFieldErrors } from '#rounds/plugins';
import { parseDuration } from './parse-duration.js';
import { table } from './table.js';
import { resolveCheckRef } from '../inventory/check-ref.js';
import { formatInterval } from '#rounds/common';
import { cliAuditContext } from '../audit/audit.types.js';

/**
 * Runs a one-shot admin command against the same storage the running collector uses. Input goes
 * through the API's DTO schemas (parseDto), so field errors read as the API's, on one line.
 */
export async function withContext<T>(config: CollectorConfig, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const app = await NestFactory.createApplicationContext(CollectorModule.register({ config, serve: false }), { logger: ['fatal', 'error', 'warn'] });
  // The first command on a new data folder (the quickstart's `agent add`) makes the key: say so there.
  const key = secretBoxOf(app.get<DataSource>(DATA_SOURCE)).current;
  if (key.created) process.stderr.write(`${keyCreatedNotice(key)}\n`);
  try {
    return await fn(app);
  } catch (e) {
    if (e instanceof ValidationFailedError) throw new Error(`${e.message}: ${formatFieldErrors(e.errors)}`);
    throw e;
  } finally {
    await app.close();
    await app.get<DataSource>(DATA_SOURCE).destroy();
  }
}

export interface AdminArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

function need(values: AdminArgs['values'], key: string, usage: string): string {
  const v = values[key];
  if (typeof v !== 'string' || v === '') throw new Error(`missing --${key}\nusage: ${usage}`);
  return v;
}

export async function agentCommand(config: CollectorConfig, { positionals, values }: AdminArgs, print: (s: string) => void): Promise<number> {
  const [sub, arg] = positionals;
  return withContext(config, async (app) => {
    const agents = app.get(AgentsService);
    switch (sub) {
      case 'add': {
        const usage = 'rounds-collector agent add --name <name> --enrol <enrolment string>';
        const dto = parseDto(enrolAgentDto, { name: need(values, 'name', usage), enrol: need(values, 'enrol', usage) }, 'invalid agent');
        const { warning, ...agent } = await agents.enrol(dto, cliAuditContext());
        print(`added agent ${agent.name} (${agent.id}) at ${agent.host}:${agent.port}, certificate sha256 ${agent.fingerprint} pinned`);
        if (warning) print(`warning: ${warning}`);
        return 0;
      }
      case 'list': {
        for (const a of await agents.listViews()) {
          print(`${a.state.padEnd(8)} ${a.name.padEnd(24)} ${`${a.host}:${a.port}`.padEnd(24)} ${a.lastError ?? ''}`);
        }
        return 0;
      }
      case 'remove': {
        if (!arg) throw new Error('usage: rounds-collector agent remove <name or id>');
        await agents.remove(arg, cliAuditContext());
        print(`removed agent ${arg} with its checks and results`);
        return 0;
      }
      default:
        throw new Error('usage: rounds-collector agent add|list|remove …');
    }
  });
}

const CHECK_USAGE =
  'usage: rounds-collector check add --agent <name> --name <name> --plugin <plugin> --config <json or @file> [--interval 60s] [--timeout 10s]\n' +
  '       rounds-collector check list [--agent <name>]\n' +
  '       rounds-collector check remove <id, agent/name, or a name only one check has>';

export async function checkCommand(config: CollectorConfig, args: AdminArgs, print: (s: string) => void): Promise<number> {
  const [sub, ref] = args.positionals;
  if (sub === 'list') {
    const agent = typeof args.values['agent'] === 'string' ? args.values['agent'] : undefined;
    return withContext(config, async (app) => {
      const agents = await app.get(AgentsService).listViews();
      const agentName = (id: string) => agents.find((a) => a.id === id)?.name ?? id;
      const rows = (await app.get(ChecksService).listViews(agent)).map((c) => [
        c.state?.stale ? 'STALE' : (c.state?.status ?? 'PENDING'),
        `${agentName(c.agentId)}/${c.name}`,
        c.plugin,
        formatInterval(c.intervalMs),
        c.enabled ? (c.state?.summary ?? '') : '(paused)',
      ]);
      rows.sort((a, b) => (a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0));
      for (const line of table([['STATE', 'CHECK', 'PLUGIN', 'EVERY', 'SUMMARY'], ...rows])) print(line);
      return 0;
    });
  }
  if (sub === 'remove') {
    if (!ref) throw new Error(CHECK_USAGE);
    return withContext(config, async (app) => {
      const agents = await app.get(AgentsService).listViews();
      const check = resolveCheckRef(ref, await app.get(ChecksService).listViews(), agents);
      await app.get(ChecksService).remove(check.id, cliAuditContext());
      print(`removed check ${agents.find((a) => a.id === check.agentId)?.name ?? check.agentId}/${check.name} (${check.id}) with its results`);
      return 0;
    });
  }
  if (sub !== 'add') throw new Error(CHECK_USAGE);
  const usage = 'rounds-collector check add --agent <name> --name <name> --plugin <plugin> --config <json or @file>';
  const { values } = args;
  const configText = need(values, 'config', usage);
  let pluginConfig: unknown;
  try {
    pluginConfig = JSON.parse(configText.startsWith('@') ? readFileSync(configText.slice(1), 'utf8') : configText);
  } catch (e) {
    throw new Error(`--config must be a JSON object or @file.json: ${(e as Error).message}`);
  }
  const input = {
    agent: need(values, 'agent', usage),
    name: need(values, 'name', usage),
    plugin: need(values, 'plugin', usage),
    config: pluginConfig,
    intervalMs: typeof values['interval'] === 'string' ? parseDuration(values['interval'], '--interval') : undefined,
    timeoutMs: typeof values['timeout'] === 'string' ? parseDuration(values['timeout'], '--timeout') : undefined,
  };
  return withContext(config, async (app) => {
    const check = await app.get(ChecksService).create(parseDto(createCheckDto, input, 'invalid check'), cliAuditContext());
    print(`added check ${check.name} (${check.id}): ${check.plugin} every ${check.intervalMs / 1000} s`);
    return 0;
  });
}

export async function secretsCommand(config: CollectorConfig, { positionals }: AdminArgs, print: (s: string) => void, now = () => new Date()): Promise<number> {
  if (positionals[0] !== 'rotate-key') throw new Error('usage: rounds-collector secrets rotate-key   (with the collector stopped)');
  return withContext(config, async (app) => {
    for (const line of await app.get(SecretsService).rotateKey(now())) print(line);
    return 0;
  });
}
