/**
 * Shared CLI plumbing: I/O, durations, secrets from flags, tables and progress (exit codes: `exit.ts`;
 * stores: `stores.ts`).
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KeyStoreError } from '@keyturn/core';
import { UsageError } from './exit.ts';

export { CliError, EXIT, rotationExitCode, UsageError, verificationExitCode, type ExitCodes } from './exit.ts';

/** Where a command reads and writes. Tests pass their own. */
export interface CliIo {
  /** Standard output (results). */
  stdout: (text: string) => void;
  /** Standard error (progress, errors). */
  stderr: (text: string) => void;
  /** Reads all of standard input. */
  readStdin: () => Promise<Uint8Array>;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** Working directory. */
  cwd: string;
  /** Clock, epoch ms. */
  now: () => number;
  /** Fetch for network calls. */
  fetch?: typeof fetch;
}

/** Parses `24h`, `15m`, `90s`, `2d`, `500ms` or plain milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h|d)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`${flag}: "${text}" is not a duration (examples: 90s, 15m, 24h, 2d, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[unit] as number;
  return Math.round(n * factor);
}

/** Reads a secret from `--X-env NAME` or `--X-file PATH`; never from the command line itself. */
export async function readSecretFlag(
  io: CliIo,
  values: Record<string, unknown>,
  name: string,
  options: { required: boolean; defaultEnv?: string },
): Promise<string | undefined> {
  const envName = values[`${name}-env`] as string | undefined;
  const filePath = values[`${name}-file`] as string | undefined;
  if (envName !== undefined && filePath !== undefined) throw new UsageError(`pass --${name}-env or --${name}-file, not both`);
  if (filePath !== undefined) {
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, filePath), 'utf8');
    } catch (err) {
      throw new UsageError(`--${name}-file: cannot read ${filePath} (${(err as { code?: string }).code ?? 'error'})`);
    }
    // One final newline (`echo secret > file`) is not part of the secret; any other whitespace around
    // it is refused, as the env stores do (@keyturn/store-env: `*_FILE` secrets).
    text = text.replace(/\r?\n$/, '');
    if (text.length === 0) throw new UsageError(`--${name}-file: ${filePath} is empty`);
    if (/^\s|\s$/.test(text)) {
      throw new UsageError(
        `--${name}-file: ${filePath} has whitespace around the secret besides one final newline; keyturn never trims secrets`,
      );
    }
    return text;
  }
  const variable = envName ?? options.defaultEnv;
  if (variable !== undefined) {
    const value = io.env[variable];
    if (value !== undefined && value.length > 0) return value;
    if (envName !== undefined || options.required) {
      throw new UsageError(`the environment variable ${variable} is not set (or pass --${name}-file PATH)`);
    }
  }
  if (options.required)
    throw new UsageError(`pass --${name}-env NAME or --${name}-file PATH (secrets are never taken from the command line)`);
  return undefined;
}

/** Imports an optional peer dependency, or throws a `UsageError` saying what to install. */
export async function importOptional<T>(name: string, hint: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new UsageError(`this store needs ${hint}: npm install ${hint}`);
    throw err;
  }
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-.:/=@%+,]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Renders rows as an aligned text table. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Formats an epoch-ms instant for tables. */
export function formatTime(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Progress lines on stderr for anything that waits on the network. */
export function progressPrinter(io: CliIo, enabled: boolean): (message: string) => void {
  return (message) => {
    if (enabled) io.stderr(`… ${message}\n`);
  };
}

/** The error code of a failed `fetch` (undici puts it on `cause`, or on an AggregateError's first error). */
export function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && typeof (inner[0] as { code?: unknown } | undefined)?.code === 'string')
      return (inner[0] as { code: string }).code;
  }
  return undefined;
}

/** A one-line, secret-free description of an unexpected error. */
export function describeError(err: unknown): string {
  if (err instanceof KeyStoreError) return `${err.message}${err.reason ? ` [${err.reason}${err.code ? `: ${err.code}` : ''}]` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
