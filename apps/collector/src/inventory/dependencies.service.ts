import { Injectable, Optional } from '@nestjs/common';
import type { FieldError } from '#rounds/plugins';
import type { DependencyRef } from '../alerting/engine.js';
import { ValidationFailedError } from '../shared/errors.js';
import { CurrentState } from '../state/current-state.js';
import { AgentsRepository } from './agents.repository.js';
import { ChecksRepository } from './checks.repository.js';
import { dependencyNames, parseDependsOn, resolveDependsOn, type Inventory } from './dependencies.js';

/**
 * `dependsOn` of checks and agents: names to ids when one is saved (unknown, ambiguous and
 * cyclic parents refused with field-named errors), ids to names when one is shown. Reads the
 * read model while the collector serves, the database for the CLI's one-shot commands.
 */
@Injectable()
export class DependenciesService {
  constructor(
    private readonly checks: ChecksRepository,
    private readonly agents: AgentsRepository,
    @Optional() private readonly state?: CurrentState,
  ) {}

  /** The parents to store for `node` (undefined: a check not created yet), and the errors naming bad entries or the cycle. */
  async resolve(refs: readonly string[], node?: { ref: DependencyRef; agentId: string | null }): Promise<{ parents: DependencyRef[]; errors: FieldError[] }> {
    return resolveDependsOn(refs, await this.inventory(), node);
  }

  /** {@link resolve}, a 400 when anything is wrong. */
  async mustResolve(refs: readonly string[], what: string, node?: { ref: DependencyRef; agentId: string | null }): Promise<DependencyRef[]> {
    const { parents, errors } = await this.resolve(refs, node);
    if (errors.length) throw new ValidationFailedError(what, errors);
    return parents;
  }

  /** The stored parents by name; without a read model (the CLI) by id, as `check:<id>`. */
  names(dependsOnJson: string): string[] {
    const refs = parseDependsOn(dependsOnJson);
    const state = this.state;
    if (!state) return refs.map((r) => `${r.kind}:${r.id}`);
    return dependencyNames(refs, { check: (id) => state.check(id)?.check, agent: (id) => state.agent(id)?.agent });
  }

  private async inventory(): Promise<Inventory> {
    if (this.state) return this.readModel(this.state);
    const [checks, agents] = await Promise.all([this.checks.findAll(), this.agents.findAll()]);
    return { checks, agents };
  }

  private readModel(state: CurrentState): Inventory {
    return { checks: state.listChecks().map((r) => r.check), agents: state.listAgents().map((r) => r.agent) };
  }
}
