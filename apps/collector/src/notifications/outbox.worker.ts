import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { OutboxService } from './outbox.service.js';

/** Runs the outbox loop while the collector serves (`start`); one-shot CLI commands don't deliver. */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly outbox: OutboxService) {}

  onApplicationBootstrap(): void {
    this.outbox.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.outbox.stop();
  }
}
