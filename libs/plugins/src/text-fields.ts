import { z } from 'zod';

/** C0 (NUL, tab, newline, escape…), DEL and C1: nothing a name needs, and they forge log lines, headers and page text. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

export const CONTROL_CHARACTERS_MESSAGE = 'must not contain control characters (newline, tab, NUL and the like): write it on one line of plain text';

/** The one refinement every name goes through (agents, checks, channels, maintenance windows, silence and ack authors). */
export function withoutControlCharacters<T extends z.ZodString>(schema: T): T {
  return schema.refine((text) => !CONTROL_CHARACTERS.test(text), CONTROL_CHARACTERS_MESSAGE);
}
