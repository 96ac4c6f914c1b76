import type { Tags } from '../shared/tags.js';

/** `site=north` lines → tags (their rules are the DTO's); a line without `=` is named. */
export function tagsFrom(text: string): { tags: Record<string, string>; error?: string } {
  const tags: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { tags, error: `write one key=value a line ("${line.trim().slice(0, 40)}" has no =)` };
    tags[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { tags };
}

/** Tags as the form shows them: `key=value`, one a line. */
export const tagLines = (tags: Tags) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');

/** Tags on one line, as lists show them: `site=north, modality=CT`. */
export const tagsInline = (tags: Tags) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
