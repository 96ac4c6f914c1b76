import { z } from 'zod';
import { parseEnrolment } from '#rounds/common';
import { enumParam, listQuery, orEmpty } from '../shared/dto.js';
import { AGENT_STATES } from '../storage/entities/index.js';
import { tagSelector, tagsSchema } from '../shared/tags.js';
import { dependsOnField } from './dependencies.js';

/** How an agent may be named (shared with site-key enrolment's lists). */
export const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const AGENT_NAME_RULE = 'must be 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit';
const NAME = AGENT_NAME;
const NAME_RULE = AGENT_NAME_RULE;

/** `{name, enrol}`: the enrolment string arrives parsed (host, port, token, pinned fingerprint). */
export const enrolAgentDto = orEmpty(
  z.strictObject({
    name: z.string({ error: NAME_RULE }).regex(NAME, NAME_RULE),
    enrol: z
      .string({ error: 'must be the enrolment string: copy the whole last line printed by `rounds-agent init` (it starts with rounds://)' })
      .transform((text, ctx) => {
        try {
          return parseEnrolment(text);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
          return z.NEVER;
        }
      }),
    tags: tagsSchema.default({}),
  }),
);
export type EnrolAgentDto = z.output<typeof enrolAgentDto>;

/** `PATCH /agents/{id}`: what an operator may change on an enrolled agent: its tags, and what its alerts depend on. */
export const updateAgentDto = orEmpty(z.strictObject({ tags: tagsSchema.optional(), dependsOn: dependsOnField.optional() }));
export type UpdateAgentDto = z.output<typeof updateAgentDto>;

/** How `GET /agents?sort=` may order the list: `state` puts DOWN first, then UNKNOWN, then UP. */
export const AGENT_SORT_KEYS = ['name', 'state', 'lastSeen'] as const;

/** `GET /agents?name=&tag=&state=&sort=&limit=&offset=`: `name` anywhere in the name, `tag` as `site=north` or `site`; `X-Total-Count` says how many matched. */
export const listAgentsQuery = listQuery(AGENT_SORT_KEYS, 'name', {
  name: z.string().max(63).optional(),
  tag: tagSelector.optional(),
  state: enumParam(AGENT_STATES),
});
export type ListAgentsQuery = z.output<typeof listAgentsQuery>;
