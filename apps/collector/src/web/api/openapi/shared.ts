import { z } from 'zod';
import { CHECK_STATUSES } from '#rounds/common';

/** Epoch milliseconds, as every time in the API is. */
export const epochMs = z.number().int().meta({ description: 'epoch milliseconds' });
export const tags = z.record(z.string(), z.string()).meta({ description: 'tag key → value' });
export const checkStatus = z.enum(CHECK_STATUSES);
/** A stored metric as results carry it. */
export const metric = z.strictObject({ name: z.string(), value: z.number(), unit: z.string(), labels: z.record(z.string(), z.string()).optional() });
/** Where `X-Total-Count` is sent: lists that page with `?limit=&offset=`. */
export const TOTAL_COUNT = { 'X-Total-Count': 'how many there are in all, before paging' };

/** alerting/engine-dependencies.ts NamedRef: a check or agent a dependency names. */
const namedRef = z.strictObject({ kind: z.enum(['check', 'agent']), id: z.string(), name: z.string() });

/** alerting/alerts.ts MuteReason: why an alert is quiet. */
export const muteReason = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('maintenance'), id: z.string(), name: z.string() }),
  z.strictObject({ type: z.literal('silence'), id: z.string(), createdBy: z.string(), comment: z.string() }),
  z.strictObject({ type: z.literal('acknowledged'), by: z.string(), expiresAt: epochMs.nullable() }),
  z.strictObject({ type: z.literal('flapping'), checkId: z.string() }),
  z.strictObject({ type: z.literal('agent_unreachable'), agentId: z.string() }),
  z.strictObject({
    type: z.literal('dependency'),
    parent: namedRef,
    verdict: z.enum(['down', 'failing', 'recovered']).meta({
      description: "down: CRITICAL in a hard state (an agent: unreachable); failing: CRITICAL, not yet hard; recovered: back after this alert's last result",
    }),
    rootCause: namedRef.nullable().meta({ description: 'the parent furthest up the chain that is down, when it is not the parent itself' }),
  }),
]);
