/**
 * What the env-file store checks before it reads or writes: the write target through symbolic links,
 * the file's identity (for `hasChanged`), the new secret, and window ends.
 *
 * @internal
 * @module
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { parseInstant } from '@keyturn/core/store-kit';
import { envError, fsError } from '../errors.ts';

const STORE = 'env-file';

/** The file a write goes to: the final target of `path` when it is a symbolic link. */
export async function writeTarget(path: string, secretId: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') {
      const link = await lstat(path).catch(() => undefined);
      if (link?.isSymbolicLink() === true) {
        throw envError(
          STORE,
          secretId,
          'NOT_FOUND',
          `env-file: ${path} is a symbolic link to a file that does not exist; create the target, or point the store at a real file`,
        );
      }
      return path; // a new file
    }
    throw fsError(STORE, secretId, `env-file: cannot resolve ${path}`, err, ['EACCES', 'ELOOP', 'ENOTDIR']);
  }
}

/** Most secret ids whose last-read file signature is remembered. */
export const MAX_SIGNATURES = 10_000;

/**
 * The file's identity as one string: inode, size and modification time (ns). A write through
 * `rotate()` (temp file + rename) always changes the inode; an edit in place changes size or mtime.
 * A file that cannot be `stat`ed has its own signature, so it changing back counts too.
 */
export async function fileSignature(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `error:${(err as { code?: string }).code ?? 'unknown'}`;
  }
}

export function toText(secretId: string, secret: string | Uint8Array): string {
  let text: string;
  if (typeof secret === 'string') text = secret;
  else if (secret instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(secret);
    } catch {
      throw envError(
        STORE,
        secretId,
        'BINARY_UNSUPPORTED',
        'env-file: binary secrets cannot be written to an env file; use a *_FILE secret',
      );
    }
  } else throw new TypeError('rotate(): the new secret must be a string or bytes');
  if (text.length === 0) throw envError(STORE, secretId, 'EMPTY_VALUE', 'env-file: the new secret is empty');
  if (/^\s|\s$/.test(text)) {
    throw envError(
      STORE,
      secretId,
      'WHITESPACE',
      'env-file: the new secret has leading or trailing whitespace; keyturn never trims secrets',
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw envError(STORE, secretId, 'CONTROL_CHARACTER', 'env-file: the new secret contains a control character (newline, tab, ...)');
  }
  return text;
}

export function parseEdge(raw: string | undefined): number | undefined {
  return raw === undefined ? undefined : parseInstant(raw);
}
