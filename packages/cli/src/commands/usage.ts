/**
 * Usage snapshots for `status` and `keys retire`: files, `--usage-url` (with its auth header and one exit code per failure kind), the readiness table.
 *
 * @module
 */
import { formatDuration, mergeUsage, recommendedQuietMs, type ReadinessReport, type UsageSnapshot } from '@keyturn/rotation';
import { networkCode, formatTime, parseDuration, progressPrinter, readSecretFlag, table, type CliIo } from '../common.ts';
import { CliError, EXIT, UsageError } from '../exit.ts';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Values } from './shared.ts';

export async function loadUsage(io: CliIo, values: Values): Promise<UsageSnapshot | undefined> {
  const files = (values['usage'] as string[] | undefined) ?? [];
  const urls = (values['usage-url'] as string[] | undefined) ?? [];
  const auth = await usageAuth(io, values, urls.length > 0);
  if (files.length === 0 && urls.length === 0) return undefined;
  const progress = progressPrinter(io, values['progress'] !== false);
  const reports: UsageSnapshot[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = f === '-' ? new TextDecoder().decode(await io.readStdin()) : await readFile(resolve(io.cwd, f), 'utf8');
    } catch (err) {
      throw new UsageError(`--usage: cannot read ${f} (${(err as { code?: string }).code ?? 'error'})`);
    }
    reports.push(parseSnapshot(text, f, `--usage ${f}`));
  }
  for (const u of urls) reports.push(await fetchUsage(io, u, auth, progress));
  return mergeUsage(reports);
}
export interface UsageAuth {
  readonly header: string;
  readonly value: string;
}
/** The auth header for `--usage-url`, from an environment variable or a file — never from the command line. */
export async function usageAuth(io: CliIo, values: Values, needed: boolean): Promise<UsageAuth | undefined> {
  const header = (values['usage-auth-header'] as string | undefined) ?? 'authorization';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw new UsageError(`--usage-auth-header: "${header}" is not an HTTP header name`);
  const value = await readSecretFlag(io, values, 'usage-auth', { required: false });
  if (value === undefined) {
    if (values['usage-auth-header'] !== undefined)
      throw new UsageError('--usage-auth-header needs --usage-auth-env NAME or --usage-auth-file PATH');
    return undefined;
  }
  if (!needed) throw new UsageError('--usage-auth-env / --usage-auth-file are sent only with --usage-url');
  // A header value must be one line of visible characters; never echo it.
  if (!/^[\t\x20-\x7e\x80-\xff]+$/.test(value) || /^\s|\s$/.test(value)) {
    throw new UsageError('--usage-auth-env / --usage-auth-file: the value is not a valid one-line HTTP header value');
  }
  return { header, value };
}
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}
/** Fetches one snapshot; every failure names the URL and has its own exit code. */
export async function fetchUsage(io: CliIo, u: string, auth: UsageAuth | undefined, progress: (m: string) => void): Promise<UsageSnapshot> {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new UsageError(`--usage-url: "${u}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--usage-url: ${u} is not an http(s) URL`);
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(
      '--usage-url: credentials do not belong in the URL (a command line is visible to every user in `ps`); use --usage-auth-env NAME or --usage-auth-file PATH',
    );
  }
  const where = url.href;
  if (auth !== undefined && url.protocol === 'http:' && !isLoopback(url.hostname)) {
    io.stderr(`warning: sending the --usage-auth credentials to ${where} over plain HTTP\n`);
  }
  progress(`fetching usage from ${where}`);
  const timeoutMs = 15_000;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth !== undefined) headers[auth.header] = auth.value;
  let response: Response;
  try {
    // redirect: 'manual': the credentials are never sent on to another address.
    response = await (io.fetch ?? fetch)(where, { signal: AbortSignal.timeout(timeoutMs), headers, redirect: 'manual' });
  } catch (err) {
    const name = (err as { name?: string } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError')
      throw new CliError(`--usage-url ${where}: no answer within ${timeoutMs / 1000} s`, EXIT.USAGE_UNREACHABLE);
    const code = networkCode(err);
    throw new CliError(
      `--usage-url ${where}: cannot be reached (${code ?? (err instanceof Error ? err.message : 'network error')})`,
      EXIT.USAGE_UNREACHABLE,
    );
  }
  const status = response.status;
  if (status < 200 || status > 299) {
    await response.body?.cancel().catch(() => undefined);
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      throw new CliError(
        `--usage-url ${where}: answered HTTP ${status}, a redirect${location === null ? '' : ` to ${location}`}; pass the final URL (redirects are not followed, so credentials never go elsewhere)`,
        EXIT.USAGE_HTTP_ERROR,
      );
    }
    if (status === 401 || status === 403) {
      throw new CliError(
        `--usage-url ${where}: answered HTTP ${status}; ${
          auth === undefined
            ? 'it wants credentials: pass --usage-auth-env NAME or --usage-auth-file PATH (sent as the Authorization header, or --usage-auth-header NAME)'
            : `the ${auth.header} header was refused`
        }`,
        EXIT.USAGE_UNAUTHORIZED,
      );
    }
    throw new CliError(
      `--usage-url ${where}: answered HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`,
      EXIT.USAGE_HTTP_ERROR,
    );
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw new CliError(`--usage-url ${where}: the answer broke off (${networkCode(err) ?? 'network error'})`, EXIT.USAGE_UNREACHABLE);
  }
  const type = response.headers.get('content-type');
  return parseSnapshot(text, where, `--usage-url ${where}`, type ?? undefined);
}
export function parseSnapshot(text: string, instance: string, where: string, contentType?: string): UsageSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(
      `${where}: the answer is not JSON${contentType === undefined ? '' : ` (content-type ${contentType.split(';')[0]})`}; expected a keyturn usage snapshot (usageSnapshot())`,
      EXIT.USAGE_INVALID,
    );
  }
  if (Array.isArray(parsed)) return { version: 1, instances: [instance], since: undefined, takenAt: Date.now(), keys: parsed };
  const s = parsed as UsageSnapshot;
  if (s?.version !== 1 || !Array.isArray(s.keys))
    throw new CliError(`${where}: not a keyturn usage snapshot (usageSnapshot() output, version 1)`, EXIT.USAGE_INVALID);
  return s;
}
export function quietOf(values: Values): number {
  if (values['quiet'] !== undefined) return parseDuration(values['quiet'] as string, '--quiet');
  return recommendedQuietMs(values['provider'] as string | undefined);
}
export function renderReadiness(io: CliIo, report: ReadinessReport, haveUsage: boolean): void {
  io.stdout(
    table(
      ['SECRET', 'KEY ID', 'ROLE', 'WINDOW', 'MATCHES', 'LAST MATCH'],
      report.rows.map((r) => [
        r.secretId,
        r.keyId,
        r.keyRole,
        `${formatTime(r.notBefore)} … ${formatTime(r.notAfter)}`,
        haveUsage ? String(r.matches) : '?',
        !haveUsage ? '?' : r.lastMatchedAgoMs === undefined ? 'never' : `${formatDuration(r.lastMatchedAgoMs)} ago`,
      ]),
    ),
  );
  for (const v of report.verdicts) {
    io.stdout(
      `\n${v.secretId}: ${haveUsage || v.reason === 'no-previous' || v.reason === 'window-ended' ? v.message : 'previous key safe to retire: unknown (no usage: pass --usage FILE or --usage-url URL)'}\n`,
    );
  }
}
