import { z } from 'zod';
import { timeZoneName } from '../schema.js';
import { aeTitle, DICOM_DATE_KEY, DICOM_DATE_KEY_MESSAGE, dicomConnectionFields } from '../shared/dicom-fields.js';
import { workingHoursSchema } from '../shared/working-hours.js';

// PS3.5 6.2 CS: upper-case letters, digits, space and underscore, at most 16 characters.
const MODALITY = /^[A-Z0-9_ ]{1,16}$/;

function itemCount(description: string) {
  return z.number().int().min(1).max(10_000).optional().meta({ description });
}

export const dicomWorklistSchema = z
  .strictObject({
    ...dicomConnectionFields(),
    calledAet: aeTitle("the worklist provider's AE title (RIS, broker or PACS)"),
    scheduledStationAet: aeTitle('Scheduled Station AE Title (0040,0001) to ask for: the modality whose worklist this is; any when absent').optional(),
    modality: z
      .string()
      .regex(MODALITY, 'must be a DICOM modality code such as CT, MR or US (capital letters, digits, underscore, at most 16)')
      .optional()
      .meta({ description: 'Modality (0008,0060) to ask for; any when absent' }),
    scheduledDate: z
      .string()
      .regex(DICOM_DATE_KEY, DICOM_DATE_KEY_MESSAGE)
      .default('today')
      .meta({ description: 'Scheduled Procedure Step Start Date (0040,0002) to ask for; "today" is the date in timeZone' }),
    timeZone: timeZoneName()
      .optional()
      .meta({ description: 'IANA time zone of the hospital, for "today" and working hours; default: workingHours.timeZone, else the agent\'s' }),
    limit: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(1000)
      .meta({ description: 'stop counting (C-CANCEL) after this many items, so a huge worklist cannot keep the check busy' }),
    warningBelow: itemCount('WARNING when fewer items than this are scheduled (only within workingHours, when given)'),
    criticalBelow: itemCount('CRITICAL when fewer items than this are scheduled (only within workingHours, when given)'),
    workingHours: workingHoursSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.warningBelow !== undefined && c.criticalBelow !== undefined && c.criticalBelow > c.warningBelow) {
      ctx.addIssue({
        code: 'custom',
        path: ['criticalBelow'],
        message: `must not be more than warningBelow (${c.warningBelow}): critical is the deeper shortfall`,
      });
    }
    for (const field of ['warningBelow', 'criticalBelow'] as const) {
      const below = c[field];
      if (below !== undefined && below > c.limit) {
        ctx.addIssue({ code: 'custom', path: [field], message: `must not be more than limit (${c.limit}): the count stops there` });
      }
    }
    if (c.workingHours !== undefined && c.warningBelow === undefined && c.criticalBelow === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['workingHours'],
        message: 'workingHours only says when warningBelow or criticalBelow apply: set one of them or remove it',
      });
    }
  });

export type DicomWorklistConfig = z.output<typeof dicomWorklistSchema>;
