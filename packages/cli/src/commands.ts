/**
 * The `keyturn` commands. Each takes parsed flag values and the I/O and returns an exit code.
 *
 * @module
 */
import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  createVerifier,
  KeyStoreError,
  providers,
  sign,
  VerificationError,
  type ProviderProfile,
  type SecretVersion,
} from '@keyturn/core';
import {
  addActiveKey,
  canRetire,
  DATASPIKE_SANDBOX_API_URL,
  formatDuration,
  mergeUsage,
  readiness,
  recommendedQuietMs,
  retirePreviousKey,
  rotateDataspikeSecret,
  RotationError,
  writeRecoveryFile,
  type ReadinessReport,
  type UsageSnapshot,
} from '@keyturn/rotation';
import { readFile } from 'node:fs/promises';
import {
  CliError,
  describeError,
  EXIT,
  networkCode,
  STORE_FILE_FLAG,
  formatTime,
  openStore,
  parseDuration,
  progressPrinter,
  readSecretFlag,
  rotationExitCode,
  shellQuote,
  table,
  UsageError,
  verificationExitCode,
  type CliIo,
  type OpenedStore,
} from './common.ts';

type Values = Record<string, unknown>;

/** Every built-in profile, by the name `--provider` takes. */
const PROFILES: Readonly<Record<string, () => ProviderProfile>> = {
  smartcar: () => providers.smartcar(),
  dataspike: () => providers.dataspike(),
  mobway: () => providers.mobway(),
  'standard-webhooks': () => providers.standardWebhooks(),
  stripe: () => providers.stripe(),
  github: () => providers.github(),
  shopify: () => providers.shopify(),
  slack: () => providers.slack(),
};

/** The names `--provider` accepts. */
export const PROVIDER_NAMES = Object.keys(PROFILES).join(', ');

function profileOf(name: unknown): ProviderProfile {
  if (name === undefined) throw new UsageError(`pass --provider (${PROVIDER_NAMES})`);
  const make = typeof name === 'string' && Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (make === undefined) throw new UsageError(`--provider: unknown provider "${String(name)}" (${PROVIDER_NAMES})`);
  return make();
}

async function readBody(io: CliIo, values: Values): Promise<Uint8Array> {
  const file = values['body-file'] as string | undefined;
  if (file !== undefined && file !== '-') {
    try {
      return await readFile(resolve(io.cwd, file));
    } catch (err) {
      throw new UsageError(`--body-file: cannot read ${file} (${(err as { code?: string }).code ?? 'error'})`);
    }
  }
  return io.readStdin();
}

function requireString(values: Values, flag: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${flag} is required`);
  return v;
}

function secretIdOf(values: Values): string {
  return requireString(values, 'secret-id');
}

async function withStore<T>(io: CliIo, values: Values, fn: (opened: OpenedStore) => Promise<T>): Promise<T> {
  const opened = await openStore(io, values);
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}

function versionsTable(versions: readonly SecretVersion[], now: number): string {
  return table(
    ['KEY ID', 'ROLE', 'NOT BEFORE', 'NOT AFTER', 'VERIFIES NOW'],
    versions.map((v) => [
      v.id,
      v.role,
      formatTime(v.notBefore),
      formatTime(v.notAfter),
      (v.notBefore === undefined || v.notBefore <= now) && (v.notAfter === undefined || now <= v.notAfter) ? 'yes' : 'no',
    ]),
  );
}

const publicVersion = (v: SecretVersion) => ({ id: v.id, role: v.role, notBefore: v.notBefore, notAfter: v.notAfter });

/** A previous key without a window end is accepted until someone retires it: say so on stderr. */
function warnOpenEnded(io: CliIo, secretId: string, versions: readonly SecretVersion[], flags: string): void {
  for (const v of versions) {
    if (v.role === 'previous' && v.notAfter === undefined) {
      io.stderr(
        `warning: the previous key ${v.id} of ${secretId} has no window end: it stays accepted until you retire it ` +
          `(\`keyturn keys retire ${flags} --secret-id ${shellQuote(secretId)} --key-id ${shellQuote(v.id)} …\` once no sender uses it)\n`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** `keyturn sign`: the headers a provider would send for a body. */
export async function signCommand(io: CliIo, values: Values): Promise<number> {
  const provider = profileOf(values['provider']);
  const secret = await readSecretFlag(io, values, 'secret', { required: true });
  const body = await readBody(io, values);
  const timestamp = values['timestamp'] === undefined ? undefined : Number(values['timestamp']);
  if (timestamp !== undefined && !Number.isInteger(timestamp)) throw new UsageError('--timestamp must be unix seconds');
  const headers = sign(provider, { body, secret: secret as string, timestamp: timestamp ?? (provider.timestampTolerance ? Math.floor(io.now() / 1000) : undefined), id: values['id'] as string | undefined });
  if (values['json'] === true) io.stdout(JSON.stringify(headers, null, 2) + '\n');
  else for (const [k, v] of Object.entries(headers)) io.stdout(`${k}: ${v}\n`);
  return EXIT.OK;
}

/** `keyturn verify`: verifies a body and headers; the exit code tells the error code. */
export async function verifyCommand(io: CliIo, values: Values): Promise<number> {
  const provider = profileOf(values['provider']);
  const headers: Record<string, string> = {};
  for (const h of (values['header'] as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`-H "${h.slice(0, 40)}": expected "Name: value"`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const usesStore = values['store'] !== undefined || values[STORE_FILE_FLAG] !== undefined;
  let verifier;
  let opened: OpenedStore | undefined;
  const now = values['now'] === undefined ? io.now : () => Number(values['now']);
  if (usesStore) {
    opened = await openStore(io, values);
    verifier = createVerifier({ provider, keys: opened.store, secretId: secretIdOf(values), now });
  } else {
    const active = await readSecretFlag(io, values, 'secret', { required: true });
    const previous = await readSecretFlag(io, values, 'previous-secret', { required: false });
    const keys: SecretVersion[] = [{ id: 'active', role: 'active', secret: active as string }];
    if (previous !== undefined) keys.push({ id: 'previous', role: 'previous', secret: previous });
    verifier = createVerifier({ provider, keys, now });
  }
  const body = await readBody(io, values);
  try {
    const result = await verifier.verify({ body, headers });
    if (values['json'] === true) io.stdout(JSON.stringify({ ok: true, ...result }, null, 2) + '\n');
    else io.stdout(`verified: key ${result.keyId} (${result.keyRole}) for ${result.secretId}\n`);
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof VerificationError)) throw err;
    if (values['json'] === true) io.stdout(JSON.stringify({ ok: false, error: err.toJSON() }, null, 2) + '\n');
    else io.stderr(`rejected: ${err.code}: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}\n`);
    return verificationExitCode(err.code);
  } finally {
    await verifier.dispose();
    await opened?.close();
  }
}

/** `keyturn keys list`. */
export async function keysListCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  return withStore(io, values, async ({ store, flags }) => {
    progressPrinter(io, values['progress'] !== false)(`reading ${secretId} from the ${store.name} store`);
    const versions = await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) });
    warnOpenEnded(io, secretId, versions, flags);
    if (values['json'] === true) io.stdout(JSON.stringify({ secretId, store: store.name, keys: versions.map(publicVersion) }, null, 2) + '\n');
    else io.stdout(versionsTable(versions, io.now()));
    return EXIT.OK;
  });
}

/** `keyturn keys add`: a new active key; the old one becomes previous for --grace. */
export async function keysAddCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  const graceMs = parseDuration((values['grace'] as string | undefined) ?? '24h', '--grace');
  const secret = await readSecretFlag(io, values, 'secret', { required: true });
  const progress = progressPrinter(io, values['progress'] !== false);
  return withStore(io, values, async ({ store }) => {
    const result = await addActiveKey({ store, secretId, secret: secret as string, graceMs, onProgress: (e) => progress(e.message) });
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
    if (values['json'] === true) io.stdout(JSON.stringify(result, null, 2) + '\n');
    else if (result.alreadyActive) io.stdout(`${secretId}: that key is already active (${result.activeId}); nothing changed\n`);
    else {
      io.stdout(`${secretId}: active key is now ${result.activeId}\n`);
      if (result.previousId !== undefined) {
        io.stdout(`${secretId}: ${result.previousId} is previous${result.previousNotAfter === undefined ? '' : ` until ${formatTime(result.previousNotAfter)}`}\n`);
      }
    }
    return EXIT.OK;
  });
}

async function loadUsage(io: CliIo, values: Values): Promise<UsageSnapshot | undefined> {
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

interface UsageAuth {
  readonly header: string;
  readonly value: string;
}

/** The auth header for `--usage-url`, from an environment variable or a file — never from the command line. */
async function usageAuth(io: CliIo, values: Values, needed: boolean): Promise<UsageAuth | undefined> {
  const header = (values['usage-auth-header'] as string | undefined) ?? 'authorization';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw new UsageError(`--usage-auth-header: "${header}" is not an HTTP header name`);
  const value = await readSecretFlag(io, values, 'usage-auth', { required: false });
  if (value === undefined) {
    if (values['usage-auth-header'] !== undefined) throw new UsageError('--usage-auth-header needs --usage-auth-env NAME or --usage-auth-file PATH');
    return undefined;
  }
  if (!needed) throw new UsageError('--usage-auth-env / --usage-auth-file are sent only with --usage-url');
  // A header value must be one line of visible characters; never echo it.
  if (!/^[\t\x20-\x7e\x80-\xff]+$/.test(value) || /^\s|\s$/.test(value)) {
    throw new UsageError('--usage-auth-env / --usage-auth-file: the value is not a valid one-line HTTP header value');
  }
  return { header, value };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}

/** Fetches one snapshot; every failure names the URL and has its own exit code. */
async function fetchUsage(io: CliIo, u: string, auth: UsageAuth | undefined, progress: (m: string) => void): Promise<UsageSnapshot> {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new UsageError(`--usage-url: "${u}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--usage-url: ${u} is not an http(s) URL`);
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('--usage-url: credentials do not belong in the URL (a command line is visible to every user in `ps`); use --usage-auth-env NAME or --usage-auth-file PATH');
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
    if (name === 'TimeoutError' || name === 'AbortError') throw new CliError(`--usage-url ${where}: no answer within ${timeoutMs / 1000} s`, EXIT.USAGE_UNREACHABLE);
    const code = networkCode(err);
    throw new CliError(`--usage-url ${where}: cannot be reached (${code ?? (err instanceof Error ? err.message : 'network error')})`, EXIT.USAGE_UNREACHABLE);
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
    throw new CliError(`--usage-url ${where}: answered HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`, EXIT.USAGE_HTTP_ERROR);
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

function parseSnapshot(text: string, instance: string, where: string, contentType?: string): UsageSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${where}: the answer is not JSON${contentType === undefined ? '' : ` (content-type ${contentType.split(';')[0]})`}; expected a keyturn usage snapshot (usageSnapshot())`, EXIT.USAGE_INVALID);
  }
  if (Array.isArray(parsed)) return { version: 1, instances: [instance], since: undefined, takenAt: Date.now(), keys: parsed };
  const s = parsed as UsageSnapshot;
  if (s?.version !== 1 || !Array.isArray(s.keys)) throw new CliError(`${where}: not a keyturn usage snapshot (usageSnapshot() output, version 1)`, EXIT.USAGE_INVALID);
  return s;
}

function quietOf(values: Values): number {
  if (values['quiet'] !== undefined) return parseDuration(values['quiet'] as string, '--quiet');
  return recommendedQuietMs(values['provider'] as string | undefined);
}

function renderReadiness(io: CliIo, report: ReadinessReport, haveUsage: boolean): void {
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
    io.stdout(`\n${v.secretId}: ${haveUsage || v.reason === 'no-previous' || v.reason === 'window-ended' ? v.message : 'previous key safe to retire: unknown (no usage: pass --usage FILE or --usage-url URL)'}\n`);
  }
}

/** `keyturn status`: keys, usage and the readiness verdict. */
export async function statusCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  const quietMs = quietOf(values);
  const usage = await loadUsage(io, values);
  return withStore(io, values, async ({ store, flags }) => {
    progressPrinter(io, values['progress'] !== false)(`reading ${secretId} from the ${store.name} store`);
    const versions = await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) });
    warnOpenEnded(io, secretId, versions, flags);
    const report = readiness(usage ?? [], {
      now: io.now(),
      quietMs,
      current: versions.map((v) => ({ secretId, keyId: v.id, keyRole: v.role, notBefore: v.notBefore, notAfter: v.notAfter })),
    });
    const verdict = report.verdicts.find((v) => v.secretId === secretId);
    const known = usage !== undefined || verdict?.reason === 'no-previous' || verdict?.reason === 'window-ended';
    if (values['json'] === true) {
      io.stdout(JSON.stringify({ ...report, usageKnown: usage !== undefined, instances: usage?.instances ?? [] }, null, 2) + '\n');
    } else renderReadiness(io, report, usage !== undefined);
    if (values['check'] === true) return known && verdict?.safe === true ? EXIT.OK : EXIT.NOT_SAFE;
    return EXIT.OK;
  });
}

/** `keyturn keys retire`: removes the previous key once the verdict says safe. */
export async function keysRetireCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  const force = values['force'] === true;
  const usage = await loadUsage(io, values);
  if (usage === undefined && !force) {
    throw new UsageError('pass --usage FILE / --usage-url URL so the readiness verdict can be checked, or --force');
  }
  return withStore(io, values, async ({ store }) => {
    if (!canRetire(store)) {
      io.stderr(
        store.name === 'aws-secrets-manager'
          ? 'keys retire: remove the AWSPREVIOUS label with `aws secretsmanager update-secret-version-stage --secret-id ID --version-stage AWSPREVIOUS --remove-from-version-id VERSION`\n'
          : store.name.startsWith('gcp')
            ? 'keys retire: disable the previous version with `gcloud secrets versions disable VERSION --secret NAME`\n'
            : `keys retire: the ${store.name} store cannot retire keys\n`,
      );
      return EXIT.STORE_UNSUPPORTED;
    }
    const result = await retirePreviousKey({
      store,
      secretId,
      keyId: values['key-id'] as string | undefined,
      usage,
      force,
      readiness: { now: io.now(), quietMs: quietOf(values) },
    });
    if (values['json'] === true) io.stdout(JSON.stringify({ secretId, ...result }, null, 2) + '\n');
    else io.stdout(result.retiredId === undefined ? `${secretId}: there is no previous key\n` : `${secretId}: retired ${result.retiredId}\n`);
    return EXIT.OK;
  });
}

/** `keyturn rotate dataspike`. */
export async function rotateDataspikeCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  const webhookId = requireString(values, 'webhook-id');
  const graceMs = parseDuration((values['grace'] as string | undefined) ?? '24h', '--grace');
  const apiKey = (await readSecretFlag(io, values, 'api-key', { required: true, defaultEnv: 'DATASPIKE_API_KEY' })) as string;
  const baseUrl = (values['base-url'] as string | undefined) ?? (values['sandbox'] === true ? DATASPIKE_SANDBOX_API_URL : undefined);
  const recoveryPath = resolve(
    io.cwd,
    (values['recovery-file'] as string | undefined) ?? `keyturn-recovery-${secretId}-${new Date(io.now()).toISOString().replace(/[:.]/g, '-')}.secret`,
  );
  if (await stat(recoveryPath).then(() => true, () => false)) {
    throw new UsageError(`--recovery-file: ${recoveryPath} already exists; choose a new path (it is never overwritten)`);
  }
  const progress = progressPrinter(io, values['progress'] !== false);
  return withStore(io, values, async ({ store, flags }) => {
    const addCommand = (file: string): string => `keyturn keys add ${flags} --secret-id ${shellQuote(secretId)} --secret-file ${file} --grace ${graceMs}ms`;
    const recoveryCommand = addCommand(shellQuote(recoveryPath));
    const apiKeyFlags =
      values['api-key-file'] !== undefined
        ? ` --api-key-file ${shellQuote(resolve(io.cwd, values['api-key-file'] as string))}`
        : values['api-key-env'] !== undefined
          ? ` --api-key-env ${shellQuote(values['api-key-env'] as string)}`
          : '';
    const rerunCommand =
      `keyturn rotate dataspike --webhook-id ${shellQuote(webhookId)} ${flags} --secret-id ${shellQuote(secretId)} --grace ${graceMs}ms` +
      `${baseUrl === undefined ? '' : ` --base-url ${shellQuote(baseUrl)}`}${apiKeyFlags}`;
    let recoveryWritten = false;
    try {
      const result = await rotateDataspikeSecret({
        apiKey,
        webhookId,
        store,
        secretId,
        graceMs,
        baseUrl,
        fetch: io.fetch,
        recoveryCommand: addCommand('<secret-file>'),
        rerunCommand,
        onProgress: (e) => progress(e.message),
        onSecret: async (secret) => {
          await writeRecoveryFile(recoveryPath, secret);
          recoveryWritten = true;
          progress(`new secret saved to ${recoveryPath} (mode 0600) until the store write is confirmed`);
        },
      });
      if (recoveryWritten && values['keep-recovery-file'] !== true) await rm(recoveryPath, { force: true });
      for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
      if (values['json'] === true) io.stdout(JSON.stringify(result, null, 2) + '\n');
      else {
        io.stdout(`${secretId}: Dataspike signs with the new secret; active key is ${result.activeId}\n`);
        if (result.previousId !== undefined) {
          io.stdout(`${secretId}: old key ${result.previousId} stays accepted until ${formatTime(result.previousNotAfter)}\n`);
        }
        io.stdout(`next: watch \`keyturn status ${flags} --secret-id ${shellQuote(secretId)} --provider dataspike --usage …\` and retire the old key when it says safe\n`);
      }
      return EXIT.OK;
    } catch (err) {
      if (err instanceof RotationError && err.code === 'STORE_WRITE_FAILED' && err.recovery !== undefined) {
        if (!recoveryWritten) {
          try {
            await writeRecoveryFile(recoveryPath, err.recovery.secret);
            recoveryWritten = true;
          } catch (writeErr) {
            io.stderr(`error: could not write the recovery file ${recoveryPath} (${(writeErr as { code?: string }).code ?? 'error'})\n`);
          }
        }
        io.stderr(`error: ${err.message}\n`);
        if (recoveryWritten) {
          io.stderr(`The new secret is saved in ${recoveryPath} (mode 0600). Dataspike already signs with it. Finish with:\n  ${recoveryCommand}\nthen delete the file.\n`);
        } else {
          io.stderr('The new secret could not be saved anywhere; rotate again at once (Dataspike issues a fresh secret) once the store is writable.\n');
        }
        return EXIT.STORE_WRITE_FAILED;
      }
      throw err;
    }
  });
}

/** `keyturn challenge smartcar`: the answer to a Smartcar VERIFY challenge. */
export async function challengeSmartcarCommand(io: CliIo, values: Values): Promise<number> {
  const provider = providers.smartcar();
  let payload: unknown;
  const challenge = values['challenge'] as string | undefined;
  if (challenge !== undefined) payload = { eventType: 'VERIFY', data: { challenge } };
  else {
    const bytes = await readBody(io, { 'body-file': values['payload-file'] });
    try {
      payload = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new UsageError('the VERIFY payload is not JSON (pass --challenge STRING, --payload-file FILE or the payload on stdin)');
    }
  }
  const usesStore = values['store'] !== undefined || values[STORE_FILE_FLAG] !== undefined;
  let opened: OpenedStore | undefined;
  let verifier;
  if (usesStore) {
    opened = await openStore(io, values);
    verifier = createVerifier({ provider, keys: opened.store, secretId: secretIdOf(values), now: io.now });
  } else {
    const secret = await readSecretFlag(io, values, 'secret', { required: true, defaultEnv: undefined });
    verifier = createVerifier({ provider, keys: [{ id: 'active', role: 'active', secret: secret as string }], now: io.now });
  }
  try {
    if (!verifier.isChallenge(payload)) throw new UsageError('the payload is not a Smartcar VERIFY challenge');
    const answer = await verifier.answerChallenge(payload);
    io.stdout(JSON.stringify(answer) + '\n');
    return EXIT.OK;
  } finally {
    await verifier.dispose();
    await opened?.close();
  }
}

/** Maps an error thrown by a command to a message and an exit code. */
export function reportError(io: CliIo, err: unknown): number {
  if (err instanceof UsageError) {
    io.stderr(`error: ${err.message}\n(run with --help for usage)\n`);
    return EXIT.USAGE;
  }
  if (err instanceof CliError) {
    io.stderr(`error: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof RotationError) {
    io.stderr(`error: ${err.code}: ${err.message}\n`);
    return rotationExitCode(err.code);
  }
  if (err instanceof KeyStoreError) {
    io.stderr(`error: store ${err.store}: ${describeError(err)}\n`);
    return EXIT.STORE_ERROR;
  }
  if (err instanceof VerificationError) {
    io.stderr(`error: ${err.code}: ${err.message}\n`);
    return verificationExitCode(err.code);
  }
  io.stderr(`error: ${describeError(err)}\n`);
  return EXIT.ERROR;
}
