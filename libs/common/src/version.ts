import { readFileSync } from 'node:fs';

/** Rounds' version, from the root package.json (compiled to dist/libs/common/src: the root is four up). */
export const ROUNDS_VERSION: string = (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
