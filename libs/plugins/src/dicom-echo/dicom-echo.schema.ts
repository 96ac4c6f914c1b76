import { z } from 'zod';
import { thresholdRange } from '../schema.js';
import { DICOM_DATE_KEY, DICOM_DATE_KEY_MESSAGE, dicomConnectionFields, dicomTlsExpirySchema } from '../shared/dicom-fields.js';

export const dicomFindSchema = z
  .strictObject({
    limit: z.number().int().min(1).max(100).default(5).meta({ description: 'stop (C-CANCEL) after this many matches' }),
    studyDate: z.string().regex(DICOM_DATE_KEY, DICOM_DATE_KEY_MESSAGE).default('today').meta({
      description: 'StudyDate matching key; "today" keeps the query cheap on a large PACS, "*" asks for any date',
    }),
  })
  .meta({ description: 'also send a study-level C-FIND to prove the node answers queries' });

export const dicomEchoSchema = z.strictObject({
  ...dicomConnectionFields(),
  tls: dicomTlsExpirySchema.optional(),
  warning: thresholdRange('WARNING when the C-ECHO round trip in seconds is outside').optional(),
  critical: thresholdRange('CRITICAL when the C-ECHO round trip in seconds is outside').optional(),
  find: dicomFindSchema.optional(),
});

export type DicomEchoConfig = z.output<typeof dicomEchoSchema>;
