import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { formatInterval } from '#rounds/common';
import { validateWith, type FieldError } from '#rounds/plugins';
import { Access } from '../auth/access.decorator.js';
import type { AuditContext } from '../audit/audit.types.js';
import { parseDuration } from '../cli/parse-duration.js';
import { createCheckDto, updateCheckDto } from '../inventory/checks.dto.js';
import { AgentsService } from '../inventory/agents.service.js';
import { ChecksService, type CheckView, type PluginForm } from '../inventory/checks.service.js';
import { ConflictError, ValidationFailedError } from '../shared/errors.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { isSealed, secretBoxOf } from '../storage/secret-box.js';
import { Audit } from './audit-context.js';
import { tagLines, tagsFrom } from './form-tags.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { configFrom, fieldsOf, formFieldOf, formValue, secretTexts, valuesOf, type FormField } from './schema-form.js';
import { CheckFormPage, type CheckFormModel, type CheckFormValues } from './views/check-form.page.js';
import { ConfirmPage } from './views/confirm.page.js';

const SEALED = 'sealed:';

/** Where a service error's field shows in the form: `intervalMs` by "Every", `config.json.0.path` by its box. */
function checkFieldOf(field: string, fields: readonly FormField[]): string {
  if (field === 'intervalMs') return 'interval';
  if (field === 'timeoutMs') return 'timeout';
  if (field.startsWith('tags')) return 'tags';
  if (field.startsWith('dependsOn')) return 'dependsOn';
  return formFieldOf(fields, field);
}

/**
 * Adding, editing, cloning, pausing and deleting checks in the browser. The config part of the
 * form is made from the plugin's JSON Schema (schema-form.ts); "test now" runs what is typed on
 * the agent without saving. Secrets are write-only: never put in a page; one typed before a test
 * is carried to the save sealed with the collector's key.
 */
@Controller('checks')
@Access('operator')
@UseFilters(PageErrorFilter)
export class CheckEditController {
  constructor(
    private readonly checks: ChecksService,
    private readonly agents: AgentsService,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  @Get('new')
  async add(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const cloneOf = formText(query, 'clone', 100);
    if (cloneOf) {
      const source = await this.checks.getView(cloneOf);
      const stored = await this.checks.get(cloneOf);
      const plugins = await this.checks.pluginsFor(source.agentId);
      const fields = this.fieldsFor(plugins, source.plugin);
      const { values, secretsSet } = valuesOf(fields, source.config);
      // The clone keeps the source's secrets without showing them: sealed into the form.
      const sealed: Record<string, string> = {};
      for (const [name, text] of Object.entries(secretTexts(fields, JSON.parse(stored.configJson)))) sealed[name] = secretBoxOf(this.dataSource).seal(text);
      return this.render(req, res, {
        editing: null,
        values: { ...this.valuesOfView(source, await this.agentName(source.agentId)), name: `${source.name} (copy)` },
        plugins,
        fields,
        config: values,
        secretsSet,
        sealed,
        errors: {},
      });
    }
    const agents = await this.agentNames();
    const agent = formText(query, 'agent', 100) || (agents.length === 1 ? agents[0]! : '');
    const plugin = formText(query, 'plugin', 100);
    const plugins = agent ? await this.checks.pluginsFor(agent).catch(() => []) : [];
    await this.render(req, res, {
      editing: null,
      values: { agent, plugin, name: '', interval: '1m', timeout: '10s', enabled: true, tags: '', dependsOn: '' },
      plugins,
      fields: this.fieldsFor(plugins, plugin),
      config: {},
      secretsSet: new Set(),
      sealed: {},
      errors: {},
    });
  }

  @Post('new')
  async create(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const values = this.valuesOfForm(body);
    const plugins = values.agent ? await this.checks.pluginsFor(values.agent).catch(() => []) : [];
    await this.submit(req, res, body, values, plugins, null, async (spec) => {
      const dto = validateWith(createCheckDto, { ...spec, agent: values.agent, plugin: values.plugin, config: spec.config });
      if (!dto.ok) throw new ValidationFailedError('invalid check', dto.errors);
      return this.checks.create(dto.value, context);
    });
  }

  @Get(':id/edit')
  async edit(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const check = await this.checks.getView(id);
    const plugins = await this.checks.pluginsFor(check.agentId);
    const fields = this.fieldsFor(plugins, check.plugin);
    const { values, secretsSet } = valuesOf(fields, check.config);
    await this.render(req, res, {
      editing: { id, name: check.name },
      values: this.valuesOfView(check, await this.agentName(check.agentId)),
      plugins,
      fields,
      config: values,
      secretsSet,
      sealed: {},
      errors: {},
    });
  }

  @Post(':id/edit')
  async update(@Param('id') id: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const check = await this.checks.getView(id);
    const plugins = await this.checks.pluginsFor(check.agentId);
    const values = { ...this.valuesOfForm(body), agent: await this.agentName(check.agentId), plugin: check.plugin };
    // The stored check's secrets as its view shows them (redacted): a field left empty sends its placeholder back, the stored one stays.
    await this.submit(req, res, body, values, plugins, { id, name: check.name, stored: check.config }, async (spec) => {
      const dto = validateWith(updateCheckDto, spec);
      if (!dto.ok) throw new ValidationFailedError('invalid check', dto.errors);
      return this.checks.update(id, dto.value, context);
    });
  }

  @Post(':id/pause')
  async pause(@Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.checks.update(id, { enabled: false }, context);
    res.redirect(303, `/checks/${id}?done=paused`);
  }

  @Post(':id/resume')
  async resume(@Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.checks.update(id, { enabled: true }, context);
    res.redirect(303, `/checks/${id}?done=resumed`);
  }

  /** Asks first: a deleted check takes its history with it. */
  @Get(':id/delete')
  async confirmDelete(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const check = await this.checks.getView(id);
    sendPage(
      res,
      <ConfirmPage
        viewer={pageViewer(req)}
        title={`Delete ${check.name}?`}
        text={`The check ${check.name} (${check.plugin} on ${await this.agentName(check.agentId)}) stops, and its results, roll-ups and alerts are deleted with it. This cannot be undone; pausing it keeps its history.`}
        action={`/checks/${id}/delete`}
        button="Delete the check"
        cancel={`/checks/${id}`}
      />,
    );
  }

  @Post(':id/delete')
  async remove(@Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.checks.remove(id, context);
    res.redirect(303, '/checks?done=deleted');
  }

  /**
   * The form posted: `choose` shows the chosen plugin's fields, `test` runs the config on the
   * agent and shows the form again with the outcome, `save` saves and goes to the check's page.
   */
  private async submit(
    req: Request,
    res: Response,
    body: unknown,
    values: CheckFormValues,
    plugins: PluginForm[],
    editing: { id: string; name: string; stored: unknown } | null,
    save: (spec: {
      name: string;
      intervalMs: number;
      timeoutMs: number;
      enabled: boolean;
      tags: Record<string, string>;
      dependsOn: string[];
      config: Record<string, unknown>;
    }) => Promise<CheckView>,
  ): Promise<void> {
    const fields = this.fieldsFor(plugins, values.plugin);
    const box = secretBoxOf(this.dataSource);
    const errors: Record<string, string> = {};
    const sealed: Record<string, string> = {};
    const secretsSet = new Set(editing ? valuesOf(fields, editing.stored).secretsSet : []);
    const parsed = configFrom(
      fields,
      body,
      (name) => {
        const carried = formValue(body, `${SEALED}${name}`);
        if (!carried) return undefined;
        try {
          // Only an envelope this collector sealed: the box passes plaintext through (for its start-up sweep), a form must not.
          if (!isSealed(carried)) throw new Error('not sealed');
          return box.open(carried, name);
        } catch {
          errors[name] = 'the value typed before the test could not be kept: type it again';
          return undefined;
        }
      },
      editing?.stored,
    );
    Object.assign(errors, parsed.errors);
    // What was typed (or carried) goes back sealed: a second test or the save still has it, the page never shows it.
    for (const [name, text] of Object.entries(parsed.secrets)) {
      sealed[name] = box.seal(text);
      secretsSet.add(name);
    }
    const page = (extra: Partial<CheckFormModel>, status = 200) =>
      this.render(req, res, { editing, values, plugins, fields, config: parsed.values, secretsSet, sealed, errors, ...extra }, status);
    const action = formText(body, 'action', 10);
    if (action === 'choose') return page({ errors: {} });

    let intervalMs = 0;
    let timeoutMs = 0;
    try {
      intervalMs = parseDuration(values.interval, 'the interval');
    } catch (e) {
      errors['interval'] = (e as Error).message;
    }
    try {
      timeoutMs = parseDuration(values.timeout, 'the timeout');
    } catch (e) {
      errors['timeout'] = (e as Error).message;
    }
    const tags = tagsFrom(values.tags);
    if (tags.error) errors['tags'] = tags.error;
    if (!values.agent) errors['agent'] = 'choose the agent that runs the check';
    if (!values.plugin) errors['plugin'] = 'choose a plugin, then "Show its fields"';
    if (Object.keys(errors).length > 0) return page({ notice: { kind: 'error', text: 'Nothing was saved: correct the fields marked below.' } }, 400);

    const dependsOn = values.dependsOn
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    const spec = { name: values.name, intervalMs, timeoutMs, enabled: values.enabled, tags: tags.tags, dependsOn, config: parsed.config };
    try {
      if (action === 'test') {
        const outcome = await this.checks.testRun({ agent: values.agent, plugin: values.plugin, config: parsed.config, intervalMs, timeoutMs }, editing?.id);
        return page({ tested: outcome });
      }
      const saved = await save(spec);
      res.redirect(303, `/checks/${saved.id}?done=${editing ? 'saved' : 'created'}`);
    } catch (e) {
      const found: FieldError[] =
        e instanceof ValidationFailedError
          ? e.errors
          : e instanceof ConflictError
            ? [{ field: e.field ?? (action === 'test' ? 'agent' : 'name'), message: e.message }]
            : [];
      if (found.length === 0) throw e;
      for (const f of found) errors[checkFieldOf(f.field, fields)] ??= f.message;
      const what = action === 'test' ? 'The test did not run' : 'Nothing was saved';
      return page(
        { notice: { kind: 'error', text: `${what}: correct the fields marked below.` } },
        e instanceof ConflictError && action === 'test' ? 502 : 400,
      );
    }
  }

  private fieldsFor(plugins: readonly PluginForm[], plugin: string): FormField[] {
    return fieldsOf(plugins.find((p) => p.name === plugin)?.schema);
  }

  private valuesOfForm(body: unknown): CheckFormValues {
    return {
      agent: formText(body, 'agent', 100),
      plugin: formText(body, 'plugin', 100),
      name: formText(body, 'name', 200),
      interval: formText(body, 'interval', 20).trim(),
      timeout: formText(body, 'timeout', 20).trim(),
      enabled: (formValue(body, 'enabled') ?? 'true') === 'true',
      tags: formText(body, 'tags', 5000),
      dependsOn: formText(body, 'dependsOn', 5000),
    };
  }

  private valuesOfView(check: CheckView, agent: string): CheckFormValues {
    return {
      agent,
      plugin: check.plugin,
      name: check.name,
      interval: formatInterval(check.intervalMs),
      timeout: formatInterval(check.timeoutMs),
      enabled: check.enabled,
      tags: tagLines(check.tags),
      dependsOn: check.dependsOn.join('\n'),
    };
  }

  private async agentNames(): Promise<string[]> {
    return (await this.agents.listViews()).map((a) => a.name).sort();
  }

  private async agentName(id: string): Promise<string> {
    return (await this.agents.getView(id)).name;
  }

  private async render(req: Request, res: Response, m: Omit<CheckFormModel, 'viewer' | 'agents'>, status = 200): Promise<void> {
    sendPage(res, <CheckFormPage viewer={pageViewer(req)} agents={await this.agentNames()} {...m} />, status);
  }
}
