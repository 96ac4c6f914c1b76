import { AgentEntity } from './agent.entity.js';
import { AlertEngineStateEntity } from './alert-engine-state.entity.js';
import { AlertHistoryEntity } from './alert-history.entity.js';
import { CheckResultEntity } from './check-result.entity.js';
import { CheckStateEntity } from './check-state.entity.js';
import { CheckEntity } from './check.entity.js';
import { NotificationChannelEntity } from './notification-channel.entity.js';
import { NotificationOutboxEntity } from './notification-outbox.entity.js';
import { AuditLogEntity } from '../../audit/audit-log.entity.js';
import { UserEntity } from '../../users/user.entity.js';
import { SessionEntity } from '../../auth/session.entity.js';
import { ApiTokenEntity } from '../../auth/api-token.entity.js';
import { SignInLockoutEntity } from '../../auth/sign-in-lockout.entity.js';
import { EnrolmentEntity, SiteKeyEntity } from '../../enrolment/enrolment.entity.js';
import { OnCallOverrideEntity, OnCallScheduleEntity } from '../../on-call/on-call.entity.js';
import { EngineInboxEntity } from '../../alerting/engine-inbox.entity.js';
import { NotificationPolicyEntity, NotificationRoutingEntity, NotificationStepEntity } from '../../routing/routing.entity.js';
import { SecretKeyCheckEntity } from '../../secrets/secret-key-check.entity.js';

export { AgentEntity, AGENT_STATES, type AgentState } from './agent.entity.js';
export { AlertEngineStateEntity, ALERT_ENGINE_STATE_ID } from './alert-engine-state.entity.js';
export { AlertHistoryEntity } from './alert-history.entity.js';
export { CheckEntity } from './check.entity.js';
export { CheckResultEntity, type StatusCode } from './check-result.entity.js';
export { CheckStateEntity } from './check-state.entity.js';
export { NotificationChannelEntity, CHANNEL_TYPES, type ChannelType } from './notification-channel.entity.js';
export { NotificationOutboxEntity, OUTBOX_STATUSES, type OutboxStatus } from './notification-outbox.entity.js';

/** Every entity, listed by class (no globs: the compiled layout must not matter). */
export const ENTITIES = [
  AgentEntity,
  CheckEntity,
  CheckResultEntity,
  CheckStateEntity,
  NotificationChannelEntity,
  NotificationOutboxEntity,
  AlertEngineStateEntity,
  AlertHistoryEntity,
  EngineInboxEntity,
  AuditLogEntity,
  UserEntity,
  SessionEntity,
  ApiTokenEntity,
  SignInLockoutEntity,
  SiteKeyEntity,
  EnrolmentEntity,
  OnCallScheduleEntity,
  OnCallOverrideEntity,
  NotificationPolicyEntity,
  NotificationRoutingEntity,
  NotificationStepEntity,
  SecretKeyCheckEntity,
];
