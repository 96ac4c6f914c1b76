import type { Provider } from '@nestjs/common';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ChannelsRepository } from '../notifications/channels.repository.js';
import { Notifiers } from '../notifications/notifiers.js';
import { OutboxRepository } from '../notifications/outbox.repository.js';
import { OutboxService } from '../notifications/outbox.service.js';
import { AlertingRepository } from './alerting.repository.js';
import { ALERTING_OPTIONS, AlertingService } from './alerting.service.js';

/** AlertingService and what it needs, for a controller spec's test app: no tick, no commit spacing, no notifier. */
export function alertingProviders(): Provider[] {
  return [
    { provide: ALERTING_OPTIONS, useValue: { tickMs: 0, commitSpacingMs: 0 } },
    { provide: Notifiers, useValue: {} },
    AgentsRepository,
    ChecksRepository,
    ChannelsRepository,
    OutboxRepository,
    OutboxService,
    AlertingRepository,
    AlertingService,
  ];
}
