import { z } from 'zod';
import { USER_ROLES } from '../../../users/user.entity.js';
import { addUserDto, listUsersQuery, patchUserDto } from '../../../users/users.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** users/users.service.ts UserView: never the password or the second factor's secret. */
export const userView = z.strictObject({
  id: z.string(),
  name: z.string(),
  role: z.enum(USER_ROLES),
  disabled: z.boolean(),
  mustChangePassword: z.boolean(),
  twoFactor: z.boolean(),
  createdAt: epochMs,
});

const NAME = { name: 'the name the user signs in with' };

export function userRoutes(api: ApiRoutes): void {
  const user = api.component('UserView', userView);
  const withPassword = (required: boolean) => {
    const password = z.string().meta({ description: 'the generated password: its only showing' });
    return z.strictObject({ user, password: required ? password : password.optional() });
  };
  api.add({
    method: 'get',
    path: '/users',
    role: 'admin',
    query: listUsersQuery,
    summary: 'Users',
    ok: { status: 200, schema: z.array(user), description: 'The users.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'post',
    path: '/users',
    role: 'admin',
    summary: 'Add a user',
    description: 'Without `password` one is generated and returned once; either must be changed at first sign-in.',
    body: addUserDto,
    ok: { status: 201, schema: withPassword(false), description: 'The user, and the password when it was generated.' },
    errors: [409],
  });
  api.add({
    method: 'patch',
    path: '/users/:name',
    role: 'admin',
    summary: "Change a user's role, or disable or enable them",
    params: NAME,
    body: patchUserDto,
    ok: { status: 200, schema: user, description: 'The user as changed.' },
    errors: [409],
  });
  api.add({
    method: 'post',
    path: '/users/:name/reset-password',
    role: 'admin',
    summary: "Reset a user's password",
    description: 'A new generated password, returned once, to be changed at the next sign-in; the user’s sessions end.',
    params: NAME,
    ok: { status: 200, schema: withPassword(true), description: 'The user and the new password.' },
  });
  api.add({
    method: 'post',
    path: '/users/:name/reset-2fa',
    role: 'admin',
    summary: "Remove a user's second factor",
    params: NAME,
    ok: { status: 200, schema: user, description: 'The user.' },
  });
}
