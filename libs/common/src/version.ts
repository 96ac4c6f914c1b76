import { readFileSync } from 'node:fs';
import { embeddedFile } from './embedded.js';

/**
 * Rounds' version, from the root package.json (compiled to dist/libs/common/src: the root is four
 * up), or from the copy the single-file build embeds.
 */
export const ROUNDS_VERSION: string = (
  JSON.parse(embeddedFile('package.json') ?? readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
