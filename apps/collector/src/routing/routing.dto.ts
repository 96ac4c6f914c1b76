import { z } from 'zod';
import { listQuery } from '../shared/dto.js';
import { POLICY_SORT_KEYS } from './policy.js';

export { explainDto, policyDto, routingSettingsDto, type ExplainDto, type PolicyDto, type RoutingSettingsDto } from './policy.js';

/** `GET /notification-policies?name=&sort=position|name&limit=&offset=` (in judging order by default). */
export const listPoliciesQuery = listQuery(POLICY_SORT_KEYS, 'position', { name: z.string().max(200).optional() });
export type ListPoliciesQuery = z.output<typeof listPoliciesQuery>;
