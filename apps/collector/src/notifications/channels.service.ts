import { Inject, Injectable } from '@nestjs/common';
import { redactSecrets, restoreRedacted, type Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import type { ChannelType, NotificationChannelEntity, OutboxStatus } from '../storage/entities/index.js';
import type {
  CHANNEL_SORT_KEYS,
  CreateChannelDto,
  DeliveriesQuery,
  ListChannelsQuery,
  PreviewDto,
  PreviewUnsavedDto,
  SampleAlertDto,
  UpdateChannelDto,
} from './channels.dto.js';
import { byText, nameContains, type Matchers } from '../shared/dto.js';
import { ChannelsRepository } from './channels.repository.js';
import { OutboxRepository, type OutboxCount } from './outbox.repository.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { CHANNEL_JSON_SCHEMAS, scrubSecrets, secretValues, validateChannelConfig } from './channel-config.js';
import { checkUrl, type NotificationMessage } from './message.js';
import { Notifiers, previewOf, type Preview } from './notifiers.js';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';

const TEST_TIMEOUT_MS = 30_000;

/** `ok`: last delivery or test went through; `failing`: the last one did not; `unknown`: never tried. */
export type ChannelState = 'ok' | 'failing' | 'unknown';

export interface ChannelView {
  id: string;
  name: string;
  type: ChannelType;
  /** Secrets redacted. */
  config: unknown;
  enabled: boolean;
  state: ChannelState;
  /** Secrets scrubbed. */
  lastError: string | null;
  lastSuccessAt: number | null;
  failingSince: number | null;
  outbox: Record<OutboxStatus, number>;
  createdAt: number;
  updatedAt: number;
}

/** The orders of `GET /channels?sort=`; `state` puts failing channels first. */
export const CHANNEL_ORDER: Record<(typeof CHANNEL_SORT_KEYS)[number], (a: ChannelView, b: ChannelView) => number> = {
  name: byText((c) => c.name),
  type: byText((c) => c.type),
  state: (a, b) => CHANNEL_STATE_RANK[a.state] - CHANNEL_STATE_RANK[b.state],
};
const CHANNEL_STATE_RANK: Record<ChannelState, number> = { failing: 0, unknown: 1, ok: 2 };

export const CHANNEL_FILTERS: Matchers<ChannelView, ListChannelsQuery> = {
  type: (c, type) => c.type === type,
  state: (c, state) => c.state === state,
  enabled: (c, enabled) => c.enabled === (enabled === 'true'),
  name: (c, name) => nameContains(c.name, name),
};

export interface DeliveryView {
  key: string;
  kind: string | null;
  title: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface TestResult {
  ok: boolean;
  error?: string;
  durationMs: number;
}

/** Notification channels: CRUD, validated configs with secrets kept out of every view, and "send test". */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly channels: ChannelsRepository,
    private readonly outbox: OutboxRepository,
    private readonly notifiers: Notifiers,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
  ) {}

  list(): Promise<NotificationChannelEntity[]> {
    return this.channels.findAll();
  }

  /** Every channel as shown to people, with its outbox counts. */
  async listViews(): Promise<ChannelView[]> {
    const [channels, counts] = await Promise.all([this.channels.findAll(), this.outbox.counts()]);
    return channels.map((c) => channelView(c, counts));
  }

  async getView(idOrName: string): Promise<ChannelView> {
    const channel = await this.get(idOrName);
    return channelView(channel, await this.outbox.counts());
  }

  async get(idOrName: string): Promise<NotificationChannelEntity> {
    const channel = (await this.channels.findById(idOrName)) ?? (await this.channels.findByName(idOrName));
    if (!channel) throw new NotFoundError(`no notification channel with id or name "${idOrName}"`);
    return channel;
  }

  async create(dto: CreateChannelDto, context: AuditContext): Promise<ChannelView> {
    if (await this.channels.findByName(dto.name))
      throw new ConflictError(`a notification channel named "${dto.name}" exists already — choose another name`, 'name');
    return channelView(await this.channels.create(dto, this.clock.now(), (channel) => channelAudit(context, 'channel.create', channel, null, channel)));
  }

  async update(idOrName: string, dto: UpdateChannelDto, context: AuditContext): Promise<ChannelView> {
    const existing = await this.get(idOrName);
    const patch = { ...dto };
    if (patch.config) {
      // A form or script echoing back the redacted view keeps the stored secrets.
      patch.config = restoreRedacted(CHANNEL_JSON_SCHEMAS[existing.type], patch.config, JSON.parse(existing.configJson)) as Record<string, unknown>;
      const v = validateChannelConfig(existing.type, patch.config);
      if (!v.ok) throw new ValidationFailedError('invalid notification channel', v.errors);
    }
    if (patch.name !== undefined && patch.name !== existing.name) {
      const clash = await this.channels.findByName(patch.name);
      if (clash) throw new ConflictError(`a notification channel named "${patch.name}" exists already — choose another name`, 'name');
    }
    const updated = await this.channels.update(existing.id, patch, this.clock.now(), (channel) =>
      channelAudit(context, 'channel.update', channel, existing, channel),
    );
    if (!updated) throw new NotFoundError(`no notification channel with id "${existing.id}"`);
    return channelView(updated, await this.outbox.counts());
  }

  async remove(idOrName: string, context: AuditContext): Promise<void> {
    const existing = await this.get(idOrName);
    if (!(await this.channels.delete(existing.id, () => channelAudit(context, 'channel.delete', existing, existing, null))))
      throw new NotFoundError(`no notification channel with id "${existing.id}"`);
  }

  /** One page of the channel's outbox rows (newest first unless asked) and how many pass the query. */
  async deliveries(idOrName: string, query: DeliveriesQuery): Promise<{ total: number; page: DeliveryView[] }> {
    const channel = await this.get(idOrName);
    const secrets = storedSecrets(channel);
    const { total, page } = await this.outbox.page(channel.id, {
      status: query.status,
      alert: query.alert,
      oldestFirst: !query.sort.descending,
      offset: query.offset,
      // The schema's default: always a number here.
      limit: query.limit ?? 50,
    });
    return {
      total,
      page: page.map((r) => {
        let payload: { kind?: string; title?: string } = {};
        try {
          payload = JSON.parse(r.payloadJson) as typeof payload;
        } catch {
          // shown without kind and title
        }
        return {
          key: r.key,
          kind: payload.kind ?? null,
          title: payload.title ?? null,
          status: r.status,
          attempts: r.attempts,
          nextAttemptAt: r.status === 'pending' ? r.nextAttemptAt : null,
          lastError: r.lastError === null ? null : scrubSecrets(r.lastError, secrets),
          createdAt: r.createdAt,
          sentAt: r.sentAt,
        };
      }),
    };
  }

  /**
   * Sends a test message now, past the outbox, and records the outcome on the channel (a
   * failed test shows it as failing). A refusal is a result, not an API error.
   */
  async test(idOrName: string): Promise<TestResult> {
    const channel = await this.get(idOrName);
    const started = this.clock.now();
    const error = await this.sendNow(channel, testMessage(channel, this.config.publicUrl, started));
    const now = this.clock.now();
    await this.channels.recordOutcome(channel.id, error ?? null, now);
    return error === undefined ? { ok: true, durationMs: now - started } : { ok: false, error, durationMs: now - started };
  }

  /**
   * Sends `message` now to every enabled channel, past the outbox and without recording
   * anything: for news about the database itself, which the outbox cannot hold while it
   * fails. Resolves with each channel's outcome; never rejects.
   */
  async broadcast(message: NotificationMessage): Promise<{ channel: string; error?: string }[]> {
    const channels = (await this.channels.findAll()).filter((c) => c.enabled);
    return Promise.all(
      channels.map(async (channel) => {
        const error = await this.sendNow(channel, message);
        return error === undefined ? { channel: channel.name } : { channel: channel.name, error };
      }),
    );
  }

  /**
   * What the channel would send for `dto.alert` — with `dto.template` in place of its own when
   * given (null: the default messages) — built by the very functions its notifier sends with.
   */
  async preview(idOrName: string, dto: PreviewDto): Promise<Preview> {
    const channel = await this.get(idOrName);
    const stored = JSON.parse(channel.configJson) as Record<string, unknown>;
    const rest = { ...stored };
    delete rest['template'];
    const config = dto.template === undefined ? stored : dto.template === null ? rest : { ...rest, template: dto.template };
    const v = validateChannelConfig(channel.type, config);
    if (!v.ok) {
      // The stored config was valid when saved: what fails is the template sent.
      throw new ValidationFailedError(
        'invalid template',
        v.errors.map((e) => ({ ...e, field: e.field.replace(/^config\.template/, 'template') })),
      );
    }
    const now = this.clock.now();
    return previewOf(v.value, sampleMessage(dto.alert, channel.id, this.config.publicUrl, now), now);
  }

  /** What a channel not saved yet would send (its config as it would be created). */
  previewUnsaved(dto: PreviewUnsavedDto): Preview {
    const v = validateChannelConfig(dto.type, dto.config);
    if (!v.ok) throw new ValidationFailedError('invalid notification channel', v.errors);
    const now = this.clock.now();
    return previewOf(v.value, sampleMessage(dto.alert, 'unsaved', this.config.publicUrl, now), now);
  }

  /** One attempt through the channel's transport; the error a person reads (secrets scrubbed), or undefined when sent. */
  private async sendNow(channel: NotificationChannelEntity, message: NotificationMessage): Promise<string | undefined> {
    const raw = JSON.parse(channel.configJson) as unknown;
    const secrets = secretValues(CHANNEL_JSON_SCHEMAS[channel.type], raw);
    const v = validateChannelConfig(channel.type, raw);
    if (!v.ok) return `the channel config is invalid (${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})`;
    try {
      await this.notifiers.send(v.value, message, AbortSignal.timeout(TEST_TIMEOUT_MS));
      return undefined;
    } catch (e) {
      return scrubSecrets(e instanceof Error ? e.message : String(e), secrets);
    }
  }
}

/** The channel as shown to people: secrets replaced by a placeholder, also inside its last error. */
export function channelView(channel: NotificationChannelEntity, counts: readonly OutboxCount[] = []): ChannelView {
  const schema = CHANNEL_JSON_SCHEMAS[channel.type];
  let config: unknown = {};
  try {
    config = JSON.parse(channel.configJson);
  } catch {
    // shown as {}; sending reports it
  }
  const secrets = secretValues(schema, config);
  const outbox: Record<OutboxStatus, number> = { pending: 0, sent: 0, dead: 0 };
  for (const c of counts) if (c.channelId === channel.id) outbox[c.status] = c.count;
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    config: redactSecrets(schema, config),
    enabled: channel.enabled,
    state: channel.failingSince !== null ? 'failing' : channel.lastSuccessAt !== null ? 'ok' : 'unknown',
    lastError: channel.lastError === null ? null : scrubSecrets(channel.lastError, secrets),
    lastSuccessAt: channel.lastSuccessAt,
    failingSince: channel.failingSince,
    outbox,
    createdAt: channel.createdAt,
    updatedAt: channel.updatedAt,
  };
}

/** The channel as the audit log keeps it: its settings as the API shows them (secrets redacted), without delivery state. */
function channelAudit(
  context: AuditContext,
  action: AuditDraft['action'],
  target: NotificationChannelEntity,
  before: NotificationChannelEntity | null,
  after: NotificationChannelEntity | null,
): AuditDraft {
  const audited = (c: NotificationChannelEntity) => {
    const { id, name, type, config, enabled } = channelView(c);
    return { id, name, type, config, enabled };
  };
  return { context, action, target: { kind: 'channel', id: target.id, name: target.name }, before: before && audited(before), after: after && audited(after) };
}

function storedSecrets(channel: NotificationChannelEntity): string[] {
  try {
    return secretValues(CHANNEL_JSON_SCHEMAS[channel.type], JSON.parse(channel.configJson));
  } catch {
    return [];
  }
}

/** What "send test" sends: clearly a test, linking to the UI when its address is known. */
export function testMessage(channel: Pick<NotificationChannelEntity, 'id' | 'name'>, publicUrl: string | undefined, now: number): NotificationMessage {
  return {
    key: `test:${channel.id}:${now}`,
    kind: 'test',
    severity: 'info',
    title: `Test notification from Rounds to channel "${channel.name}"`,
    since: now,
    reason: 'test',
    summary: 'If you can read this, Rounds can notify you through this channel.',
    ...(publicUrl ? { url: publicUrl } : {}),
    labels: { alertname: 'RoundsTestNotification', channel: channel.name },
  };
}

/** The message a preview renders: the alert given (or the sample), as the engine would hand it over. */
export function sampleMessage(alert: SampleAlertDto, channelId: string, publicUrl: string | undefined, now: number): NotificationMessage {
  const url = checkUrl(publicUrl, 'preview');
  return {
    key: `preview:${channelId}`,
    kind: alert.kind,
    severity: alert.severity,
    title: alert.title,
    ...(alert.check ? { checkName: alert.check } : {}),
    ...(alert.agent ? { agentName: alert.agent } : {}),
    since: alert.startsAt ?? now - 12 * 60_000,
    ...(alert.kind === 'resolved' ? { resolvedAt: alert.endsAt ?? now } : {}),
    reason: alert.reason,
    summary: alert.summary,
    ...(url ? { url } : {}),
    labels: { alertname: alert.name, ...alert.labels },
  };
}
