import { USER_ROLES, type UserRole } from './user.entity.js';

/** A role and what its users may do, least to most (the README's table of roles says the same). */
export interface RoleView {
  name: UserRole;
  may: string;
}

const MAY: Record<UserRole, string> = {
  viewer: 'read everything: the status page, agents, checks, results, alerts, channels (secrets redacted)',
  operator: 'what a viewer may, and change checks, agents, acknowledgements, silences, maintenance windows, alert rules and check policies',
  admin: 'everything: users and roles, notification channels, the audit log',
};

/** The roles, least to most. */
export function roleViews(): RoleView[] {
  return [...USER_ROLES].reverse().map((name) => ({ name, may: MAY[name] }));
}
