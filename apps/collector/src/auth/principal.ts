import type { UserRole } from '../users/user.entity.js';

/**
 * Who is calling, once the access guard has checked a session cookie or an API token: the user,
 * their role as stored now (a role change applies at the next request), and which credential.
 */
export interface Principal {
  userId: string;
  name: string;
  role: UserRole;
  /** `session`: a browser signed in with a cookie; `token`: an API token in `Authorization: Bearer`. */
  via: 'session' | 'token';
  /** The session's or the token's id (never the secret itself). */
  credentialId: string;
}

/** Roles from least to most: each may do what the ones before it may. */
const RANK = { viewer: 0, operator: 1, admin: 2 } as const satisfies Record<UserRole, number>;

export function roleAtLeast(role: UserRole, needed: UserRole): boolean {
  return RANK[role] >= RANK[needed];
}
