import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import { Access } from '../auth/access.decorator.js';
import type { AuditContext } from '../audit/audit.types.js';
import { createChannelDto } from '../notifications/channels.dto.js';
import { ChannelsService, type TestResult } from '../notifications/channels.service.js';
import { CHANNEL_FORM_FIELDS, CHANNEL_TYPES, channelFormValues, configFromForm, type ChannelType } from '../notifications/channel-form.js';
import { ConflictError, ValidationFailedError } from '../shared/errors.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { ChannelPage, ChannelsPage, type ChannelFormModel } from './views/channels.page.js';
import type { FieldErrors, NoticeKind } from './views/layout.js';

const DONE: Record<string, string> = { added: 'Channel added: send a test to see that it works.', saved: 'Channel saved.', deleted: 'Channel deleted.' };

function channelType(text: string): ChannelType | undefined {
  return (CHANNEL_TYPES as readonly string[]).includes(text) ? (text as ChannelType) : undefined;
}

/** The submitted form: the name and every field of the type, as typed. */
function submitted(body: unknown, type: ChannelType): { name: string; enabled: boolean; values: Record<string, string> } {
  return {
    name: formText(body, 'name', 120),
    enabled: formText(body, 'enabled', 10) !== 'false',
    values: Object.fromEntries(CHANNEL_FORM_FIELDS[type].map((f) => [f.name, formText(body, f.name, 10_000)])),
  };
}

/** Field errors (`config.url.x` → `url`) by form field, the first one of each. */
function fieldErrors(errors: readonly { field: string; message: string }[]): FieldErrors {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const [head, field] = e.field.split('.');
    out[(head === 'config' ? field : head) || 'name'] ??= e.message;
  }
  return out;
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
    await this.renderList(
      req,
      res,
      { type, name: '', enabled: true, values: channelFormValues(type, {}), errors: {} },
      done ? { kind: 'ok', text: done } : undefined,
    );
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
        { type: 'webhook', name: formText(body, 'name', 120), enabled: true, values: channelFormValues('webhook', {}), errors: {} },
        { kind: 'error', text: `"${typed}" is not a channel type: pick one of ${CHANNEL_TYPES.join(', ')} and fill in its form.` },
        400,
      );
    const form = submitted(body, type);
    const parsed = validateWith(createChannelDto, { name: form.name, type, enabled: form.enabled, config: configFromForm(type, form.values) });
    let errors: FieldErrors = parsed.ok ? {} : fieldErrors(parsed.errors);
    if (parsed.ok) {
      try {
        const created = await this.channels.create(parsed.value, context);
        return res.redirect(303, `/channels/${encodeURIComponent(created.id)}?done=added`);
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        errors = { [e.field ?? 'name']: e.message };
      }
    }
    await this.renderList(req, res, { type, ...form, errors }, { kind: 'error', text: 'The channel was not added: correct the fields marked below.' }, 400);
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
    const form = submitted(body, existing.type);
    try {
      // The redacted view goes in for empty secret fields: the service puts the stored secrets back.
      const config = configFromForm(existing.type, form.values, existing.config as Record<string, unknown>);
      await this.channels.update(existing.id, { name: form.name, enabled: form.enabled, config }, context);
      return res.redirect(303, `/channels/${encodeURIComponent(existing.id)}?done=saved`);
    } catch (e) {
      let errors: FieldErrors;
      if (e instanceof ValidationFailedError) errors = fieldErrors(e.errors);
      else if (e instanceof ConflictError) errors = { [e.field ?? 'name']: e.message };
      else throw e;
      await this.renderOne(req, res, id, {
        form: { type: existing.type, ...form, errors },
        notice: { kind: 'error', text: 'The channel was not saved: correct the fields marked below.' },
        status: 400,
      });
    }
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
      values: channelFormValues(channel.type, channel.config),
      errors: {},
    };
    sendPage(
      res,
      <ChannelPage
        viewer={viewer}
        channel={channel}
        deliveries={await this.channels.deliveries(channel.id, 20)}
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
