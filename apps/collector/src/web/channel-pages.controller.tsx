import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import { Access } from '../auth/access.decorator.js';
import type { AuditContext } from '../audit/audit.types.js';
import { CHANNEL_JSON_SCHEMAS, CHANNEL_TYPES, type ChannelType } from '../notifications/channel-config.js';
import { createChannelDto, deliveriesQuery } from '../notifications/channels.dto.js';
import { ChannelsService, type TestResult } from '../notifications/channels.service.js';
import { ConflictError, ValidationFailedError } from '../shared/errors.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { configFrom, fieldsOf, formFieldOf, valuesOf, type FormField } from './schema-form.js';
import { ChannelPage, ChannelsPage, type ChannelFormModel } from './views/channels.page.js';
import type { NoticeKind } from './views/layout.js';

const DONE: Record<string, string> = { added: 'Channel added: send a test to see that it works.', saved: 'Channel saved.', deleted: 'Channel deleted.' };

/** Each type's settings as form fields, made once from its JSON Schema (`config.url`, `config.headers`…). */
const FIELDS = Object.fromEntries(CHANNEL_TYPES.map((t) => [t, fieldsOf(CHANNEL_JSON_SCHEMAS[t])])) as Record<ChannelType, FormField[]>;

function channelType(text: string): ChannelType | undefined {
  return (CHANNEL_TYPES as readonly string[]).includes(text) ? (text as ChannelType) : undefined;
}

/** An empty form for a new channel of `type`. */
function blankForm(type: ChannelType, name = ''): ChannelFormModel {
  return { type, name, enabled: true, fields: FIELDS[type], values: {}, secretsSet: new Set(), errors: {} };
}

/** The channel's own fields as posted (its settings are `configFrom`'s). */
function submitted(body: unknown): { name: string; enabled: boolean } {
  return { name: formText(body, 'name', 120), enabled: formText(body, 'enabled', 10) !== 'false' };
}

/** Adds service errors (`config.headers.Bad Header` → `config.headers`) beside their fields, after the form's own: the first one of each. */
function addErrors(errors: Record<string, string>, fields: readonly FormField[], found: readonly { field: string; message: string }[]): void {
  for (const e of found) errors[formFieldOf(fields, e.field) || 'name'] ??= e.message;
}

/** Notification channels in the browser: listed for everyone, changed by admins, tested by operators (as the API). */
@Controller('channels')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class ChannelPagesController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  async list(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const done = DONE[formText(query, 'done', 10)];
    const type = channelType(formText(query, 'type', 20)) ?? 'webhook';
    await this.renderList(req, res, blankForm(type), done ? { kind: 'ok', text: done } : undefined);
  }

  @Post()
  @Access('admin')
  async add(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const typed = formText(body, 'type', 20);
    const type = channelType(typed);
    // Only a forged or stale form gets here: storing it as some other type would be a guess.
    if (!type)
      return this.renderList(
        req,
        res,
        blankForm('webhook', formText(body, 'name', 120)),
        { kind: 'error', text: `"${typed}" is not a channel type: pick one of ${CHANNEL_TYPES.join(', ')} and fill in its form.` },
        400,
      );
    const fields = FIELDS[type];
    const form = submitted(body);
    const { config, errors, values } = configFrom(fields, body);
    const dto = validateWith(createChannelDto, { ...form, type, config });
    if (!dto.ok) addErrors(errors, fields, dto.errors);
    if (dto.ok && Object.keys(errors).length === 0) {
      try {
        const created = await this.channels.create(dto.value, context);
        return res.redirect(303, `/channels/${encodeURIComponent(created.id)}?done=added`);
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        addErrors(errors, fields, [{ field: e.field ?? 'name', message: e.message }]);
      }
    }
    await this.renderList(
      req,
      res,
      { type, ...form, fields, values, secretsSet: new Set(), errors },
      { kind: 'error', text: 'The channel was not added: correct the fields marked below.' },
      400,
    );
  }

  @Get(':id')
  async show(@Param('id') id: string, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const done = DONE[formText(query, 'done', 10)];
    await this.renderOne(req, res, id, { notice: done ? { kind: 'ok', text: done } : undefined, confirmDelete: formText(query, 'confirm', 10) === 'delete' });
  }

  @Post(':id')
  @Access('admin')
  async save(@Param('id') id: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const existing = await this.channels.getView(id);
    const fields = FIELDS[existing.type];
    const form = submitted(body);
    // The redacted view goes in for empty secret fields: the service puts the stored secrets back.
    const { config, errors, values } = configFrom(fields, body, undefined, existing.config);
    if (Object.keys(errors).length === 0) {
      try {
        await this.channels.update(existing.id, { ...form, config }, context);
        return res.redirect(303, `/channels/${encodeURIComponent(existing.id)}?done=saved`);
      } catch (e) {
        if (e instanceof ValidationFailedError) addErrors(errors, fields, e.errors);
        else if (e instanceof ConflictError) addErrors(errors, fields, [{ field: e.field ?? 'name', message: e.message }]);
        else throw e;
      }
    }
    await this.renderOne(req, res, id, {
      form: { type: existing.type, ...form, fields, values, secretsSet: valuesOf(fields, existing.config).secretsSet, errors },
      notice: { kind: 'error', text: 'The channel was not saved: correct the fields marked below.' },
      status: 400,
    });
  }

  @Post(':id/delete')
  @Access('admin')
  async remove(@Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.channels.remove(id, context);
    res.redirect(303, '/channels?done=deleted');
  }

  /** Sends a test now and shows its outcome on the channel's page. */
  @Post(':id/test')
  @Access('operator')
  async test(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const test = await this.channels.test(id);
    await this.renderOne(req, res, id, { test });
  }

  private async renderList(req: Request, res: Response, form: ChannelFormModel, notice?: { kind: NoticeKind; text: string }, status = 200): Promise<void> {
    const viewer = pageViewer(req);
    const canEdit = !!viewer && viewer.role === 'admin' && viewer.csrf !== '';
    sendPage(res, <ChannelsPage viewer={viewer} channels={await this.channels.listViews()} canEdit={canEdit} form={form} notice={notice} />, status);
  }

  private async renderOne(
    req: Request,
    res: Response,
    id: string,
    extra: { form?: ChannelFormModel; notice?: { kind: NoticeKind; text: string } | undefined; test?: TestResult; confirmDelete?: boolean; status?: number },
  ): Promise<void> {
    const viewer = pageViewer(req);
    const withSession = !!viewer && viewer.csrf !== '';
    const channel = await this.channels.getView(id);
    const form = extra.form ?? {
      type: channel.type,
      name: channel.name,
      enabled: channel.enabled,
      fields: FIELDS[channel.type],
      ...valuesOf(FIELDS[channel.type], channel.config),
      errors: {},
    };
    sendPage(
      res,
      <ChannelPage
        viewer={viewer}
        channel={channel}
        deliveries={(await this.channels.deliveries(channel.id, deliveriesQuery.parse({ limit: 20 }))).page}
        canEdit={withSession && viewer.role === 'admin'}
        canTest={withSession && viewer.role !== 'viewer'}
        confirmDelete={extra.confirmDelete ?? false}
        form={form}
        test={extra.test}
        notice={extra.notice}
      />,
      extra.status ?? 200,
    );
  }
}
