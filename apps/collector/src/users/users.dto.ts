import { z } from 'zod';
import { booleanParam, enumParam, listQuery, orEmpty } from '../shared/dto.js';
import { USER_ROLES } from './user.entity.js';

const ROLE_RULE = `must be one of ${USER_ROLES.join(', ')}`;

/** `POST /api/v1/users`: without `password` one is generated and returned once. */
export const addUserDto = orEmpty(
  z.strictObject({
    name: z.string({ error: 'is required: the name the user signs in with' }).min(1, 'is required').max(64, 'must be at most 64 characters'),
    role: z.enum(USER_ROLES, { error: ROLE_RULE }),
    password: z.string().max(1024, 'must be at most 1,024 characters').optional(),
  }),
);
export type AddUserDto = z.output<typeof addUserDto>;

/** `PATCH /api/v1/users/{name}`: the role, enabled or not. */
export const patchUserDto = orEmpty(
  z
    .strictObject({
      role: z.enum(USER_ROLES, { error: ROLE_RULE }).optional(),
      disabled: z.boolean({ error: 'must be true or false' }).optional(),
    })
    .refine((p) => p.role !== undefined || p.disabled !== undefined, { message: 'send role and/or disabled', path: ['role'] }),
);
export type PatchUserDto = z.output<typeof patchUserDto>;

export const USER_SORT_KEYS = ['name', 'role', 'createdAt'] as const;

/** `GET /users?role=&disabled=&name=&sort=&limit=&offset=`. */
export const listUsersQuery = listQuery(USER_SORT_KEYS, 'name', { role: enumParam(USER_ROLES), disabled: booleanParam(), name: z.string().max(64).optional() });
export type ListUsersQuery = z.output<typeof listUsersQuery>;

/** `POST /api/v1/me/password {current, password}`: one's own password, the current one proving it is them. */
export const changePasswordDto = orEmpty(
  z.strictObject({
    current: z.string({ error: 'is required: your password now' }).max(1024, 'must be at most 1,024 characters'),
    password: z.string({ error: 'is required: the new password' }).max(1024, 'must be at most 1,024 characters'),
  }),
);
export type ChangePasswordDto = z.output<typeof changePasswordDto>;
