import { Module } from '@nestjs/common';
import { OnCallModule } from '../on-call/on-call.module.js';
import { NotificationRouter } from './notification-router.js';
import { PoliciesService } from './policies.service.js';
import { RoutingRepository } from './routing.repository.js';

/**
 * Notification policies and escalation (routing/): which channels an alert's notifications
 * reach, and when. The alert engine's commit routes through NotificationRouter; on-call
 * schedules are asked through ON_CALL_DIRECTORY, which OnCallModule provides (without it a
 * schedule would silently reach nobody: the router's injection is optional for its unit specs).
 */
@Module({
  imports: [OnCallModule],
  providers: [RoutingRepository, NotificationRouter, PoliciesService],
  exports: [NotificationRouter, PoliciesService],
})
export class RoutingModule {}
