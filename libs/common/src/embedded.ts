import { getAsset, isSea } from 'node:sea';

/** True in the single-file agent (a Node single-executable application), false when run from the package. */
export function isSingleFileBuild(): boolean {
  return isSea();
}

/**
 * A file the single-file build embeds (scripts/build-agent.mjs names them: package.json,
 * agent.proto), as text; undefined when running from the package, where the caller reads the
 * file itself. A single executable has no files beside it to read.
 */
export function embeddedFile(name: string): string | undefined {
  return isSea() ? getAsset(name, 'utf8') : undefined;
}

/**
 * A binary file the single-file build embeds (the Windows .exe carries WinSW, `winsw.exe`), or
 * undefined when running from the package or when this build does not carry it.
 */
export function embeddedBinary(name: string): Uint8Array | undefined {
  if (!isSea()) return undefined;
  try {
    return new Uint8Array(getAsset(name));
  } catch {
    return undefined;
  }
}
