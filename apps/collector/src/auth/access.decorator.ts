import { SetMetadata } from '@nestjs/common';
import type { UserRole } from '../users/user.entity.js';

/**
 * Who may call a route: `public` (no sign-in: the sign-in page, /healthz, the stylesheet),
 * `self` (any signed-in user, on their own account — even one who must still change a password
 * or set up two-factor), or the least role needed. Every route says it; the access guard
 * refuses a route that does not, so a forgotten one fails closed.
 */
export type AccessLevel = 'public' | 'self' | UserRole;

export const ACCESS_KEY = 'rounds:access';

/** `@Access('operator')` on a controller or a handler (the handler's wins). */
export const Access = (level: AccessLevel) => SetMetadata(ACCESS_KEY, level);
