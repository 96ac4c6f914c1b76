import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { parseEnrolment } from '#rounds/common';
import type { AgentDescription } from '#rounds/common/wire';
import type { AgentEntity } from '../storage/entities/index.js';
import { AgentsRepository } from './agents.repository.js';
import { AgentCallError, AgentClientPool, type AgentEndpoint } from './agent-client.pool.js';
import type { CollectorConfig } from '../config/env.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { CurrentState } from '../state/current-state.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function endpointOf(agent: AgentEntity): AgentEndpoint {
  return { id: agent.id, name: agent.name, host: agent.host, port: agent.port, token: agent.token, fingerprint: agent.fingerprint };
}

export function descriptionOf(agent: AgentEntity): AgentDescription | undefined {
  if (!agent.descriptionJson) return undefined;
  try {
    return JSON.parse(agent.descriptionJson) as AgentDescription;
  } catch {
    return undefined;
  }
}

export interface EnrolResult {
  agent: AgentEntity;
  /** Set when the agent could not be reached now; it is registered anyway and polled from now on. */
  warning?: string;
}

/**
 * Registering, describing and removing agents. While the collector serves, reads come from the
 * read model and every change refreshes it; the CLI's one-shot commands have no read model and
 * read the database.
 */
@Injectable()
export class AgentsService {
  private readonly log = new Logger('Agents');

  constructor(
    private readonly agents: AgentsRepository,
    private readonly pool: AgentClientPool,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Optional() private readonly state?: CurrentState,
  ) {}

  async list(): Promise<AgentEntity[]> {
    return this.state ? this.state.listAgents().map((r) => r.agent) : this.agents.findAll();
  }

  async get(idOrName: string): Promise<AgentEntity> {
    const agent = this.state
      ? this.state.findAgent(idOrName)?.agent
      : ((await this.agents.findById(idOrName)) ?? (await this.agents.findByName(idOrName)));
    if (!agent) throw new NotFoundError(`no agent with id or name "${idOrName}"`);
    return agent;
  }

  /**
   * Registers an agent from its enrolment string. The agent is contacted first: a
   * certificate that does not match the pinned fingerprint or a refused token stops
   * the enrolment; an agent that is merely unreachable is registered with a warning.
   */
  async enrol(name: string, enrolment: string): Promise<EnrolResult> {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ValidationFailedError('invalid agent', [
        { field: 'name', message: 'must be 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit' },
      ]);
    }
    let parsed;
    try {
      parsed = parseEnrolment(String(enrolment ?? ''));
    } catch (e) {
      throw new ValidationFailedError('invalid agent', [{ field: 'enrol', message: (e as Error).message }]);
    }
    if (await this.agents.findByName(name)) throw new ConflictError(`an agent named "${name}" already exists — pick another name or remove it first`, 'name');
    const probe: AgentEndpoint = { id: `enrol:${name}`, name, ...parsed };
    let description: AgentDescription | undefined;
    let warning: string | undefined;
    try {
      description = await this.pool.describe(probe, this.config.pollTimeoutMs);
    } catch (e) {
      const err = e as AgentCallError;
      if (err.code === 'certificate' || err.code === 'unauthenticated') {
        throw new ValidationFailedError('agent refused', [{ field: 'enrol', message: err.message }]);
      }
      warning = `${err.message}; registered anyway — it will be polled and shown DOWN until it answers`;
    } finally {
      this.pool.drop(probe.id);
    }
    const agent = await this.agents.create({ name, host: parsed.host, port: parsed.port, token: parsed.token, fingerprint: parsed.fingerprint });
    if (description) await this.agents.update(agent.id, { descriptionJson: JSON.stringify(description) });
    await this.state?.refreshAgent(agent.id);
    this.log.log(`enrolled agent ${name} at ${parsed.host}:${parsed.port}${warning ? ` (${warning})` : ''}`);
    return { agent: (await this.agents.findById(agent.id)) ?? agent, warning };
  }

  async remove(idOrName: string): Promise<void> {
    const agent = await this.get(idOrName);
    await this.agents.delete(agent.id);
    await this.state?.refreshAgent(agent.id);
    this.pool.drop(agent.id);
    this.log.log(`removed agent ${agent.name}`);
  }

  /** Asks the agent who it is and what it can run, and keeps the answer. */
  async refreshDescription(agent: AgentEntity): Promise<AgentDescription> {
    const description = await this.pool.describe(endpointOf(agent), this.config.pollTimeoutMs);
    const descriptionJson = JSON.stringify(description);
    await this.agents.update(agent.id, { descriptionJson });
    this.state?.agentPolled(agent.id, { descriptionJson });
    return description;
  }
}
