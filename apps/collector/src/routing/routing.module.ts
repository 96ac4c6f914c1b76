import { Module } from '@nestjs/common';
import { NotificationRouter } from './notification-router.js';
import { PoliciesService } from './policies.service.js';
import { RoutingRepository } from './routing.repository.js';

/**
 * Notification policies and escalation (routing/): which channels an alert's notifications
 * reach, and when. The alert engine's commit routes through NotificationRouter; on-call
 * schedules are asked through ON_CALL_DIRECTORY when a module provides it.
 */
@Module({
  providers: [RoutingRepository, NotificationRouter, PoliciesService],
  exports: [NotificationRouter, PoliciesService],
})
export class RoutingModule {}
