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
  describeError,
  EXIT,
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
  const usesStore = values['store'] !== undefined || values['env-file'] !== undefined;
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
  return withStore(io, values, async ({ store }) => {
    progressPrinter(io, values['progress'] !== false)(`reading ${secretId} from the ${store.name} store`);
    const versions = await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) });
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
    reports.push(parseSnapshot(text, f));
  }
  for (const u of urls) {
    progress(`fetching usage from ${u}`);
    const response = await (io.fetch ?? fetch)(u, { signal: AbortSignal.timeout(15_000), headers: { accept: 'application/json' } });
    if (!response.ok) throw new UsageError(`--usage-url: ${u} answered HTTP ${response.status}`);
    reports.push(parseSnapshot(await response.text(), u));
  }
  return mergeUsage(reports);
}

function parseSnapshot(text: string, where: string): UsageSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`usage from ${where} is not JSON`);
  }
  if (Array.isArray(parsed)) return { version: 1, instances: [where], since: undefined, takenAt: Date.now(), keys: parsed };
  const s = parsed as UsageSnapshot;
  if (s?.version !== 1 || !Array.isArray(s.keys)) throw new UsageError(`usage from ${where} is not a keyturn usage snapshot (usageSnapshot())`);
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
  return withStore(io, values, async ({ store }) => {
    progressPrinter(io, values['progress'] !== false)(`reading ${secretId} from the ${store.name} store`);
    const versions = await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) });
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
    const recoveryCommand = `keyturn keys add ${flags} --secret-id ${shellQuote(secretId)} --secret-file ${shellQuote(recoveryPath)} --grace ${graceMs}ms`;
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
        recoveryCommand,
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
  const usesStore = values['store'] !== undefined || values['env-file'] !== undefined;
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
