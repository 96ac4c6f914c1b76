import { Initial1700000000000 } from './1700000000000-initial.js';
import { Notifications1700000000001 } from './1700000000001-notifications.js';
import { Alerting1700000000002 } from './1700000000002-alerting.js';
import { TimeoutWithinInterval1700000000003 } from './1700000000003-timeout-within-interval.js';
import { AuditLog1700000000005 } from '../../audit/1700000000005-audit-log.js';
import { Users1700000000006 } from '../../users/1700000000006-users.js';
import { SignIn1700000000007 } from '../../auth/1700000000007-sign-in.js';
import { Rollups1700000000008 } from '../../history/1700000000008-rollups.js';
import { Tags1700000000009 } from '../../inventory/1700000000009-tags.js';
import { MetricRollups1700000000010 } from '../../history/1700000000010-metric-rollups.js';
import { StateChanges1700000000011 } from '../../history/1700000000011-state-changes.js';
import { SiteEnrolment1700000000012 } from '../../enrolment/1700000000012-site-enrolment.js';
import { DependsOn1700000000016 } from '../../inventory/1700000000016-depends-on.js';
import { NotificationRouting1700000000019 } from '../../routing/1700000000019-notification-routing.js';
import { OnCall1700000000024 } from '../../on-call/1700000000024-on-call.js';
import { Cluster1700000000025 } from '../../cluster/1700000000025-cluster.js';
import { EngineInbox1700000000027 } from '../../alerting/1700000000027-engine-inbox.js';
import { SignInLockouts1700000000028 } from '../../auth/1700000000028-sign-in-lockouts.js';
import { SecretKeyCheck1700000000029 } from '../../secrets/1700000000029-secret-key-check.js';

/** Every migration in order, listed by class: one per schema change, each with up and down. */
export const MIGRATIONS = [
  Initial1700000000000,
  Notifications1700000000001,
  Alerting1700000000002,
  TimeoutWithinInterval1700000000003,
  AuditLog1700000000005,
  Users1700000000006,
  SignIn1700000000007,
  Rollups1700000000008,
  Tags1700000000009,
  MetricRollups1700000000010,
  StateChanges1700000000011,
  SiteEnrolment1700000000012,
  DependsOn1700000000016,
  NotificationRouting1700000000019,
  OnCall1700000000024,
  Cluster1700000000025,
  EngineInbox1700000000027,
  SignInLockouts1700000000028,
  SecretKeyCheck1700000000029,
];
