import { Module } from '@nestjs/common';
import { ChannelsRepository } from '../notifications/channels.repository.js';
import { ON_CALL_DIRECTORY } from '../notifications/on-call.js';
import { UsersModule } from '../users/users.module.js';
import { OnCallRepository } from './on-call.repository.js';
import { OnCallService } from './on-call.service.js';

/**
 * On-call schedules; routing injects ON_CALL_DIRECTORY from here to ask who is on call. Channels
 * are read through their repository, not NotificationsModule: routing lives beside the
 * notifications and imports this module, which must then not import them back.
 */
@Module({
  imports: [UsersModule],
  providers: [ChannelsRepository, OnCallRepository, OnCallService, { provide: ON_CALL_DIRECTORY, useExisting: OnCallService }],
  exports: [OnCallService, ON_CALL_DIRECTORY],
})
export class OnCallModule {}
