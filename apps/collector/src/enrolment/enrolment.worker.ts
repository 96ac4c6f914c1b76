import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { EnrolmentsService } from './enrolments.service.js';

/** Contacts and claims the agents of submitted lists while the collector serves (`start`). */
@Injectable()
export class EnrolmentWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly enrolments: EnrolmentsService) {}

  onApplicationBootstrap(): void {
    this.enrolments.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.enrolments.stop();
  }
}
