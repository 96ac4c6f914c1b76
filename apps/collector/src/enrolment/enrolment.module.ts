import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module.js';
import { EnrolmentWorker } from './enrolment.worker.js';
import { EnrolmentsRepository } from './enrolments.repository.js';
import { EnrolmentsService } from './enrolments.service.js';

/** Enrolling many agents with a site key: the key, submitted lists, approvals, and the background contact and claim. */
@Module({
  imports: [InventoryModule],
  providers: [EnrolmentsRepository, EnrolmentsService, EnrolmentWorker],
  exports: [EnrolmentsService],
})
export class EnrolmentModule {}
