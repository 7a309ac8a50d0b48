/**
 * `keyturn keys list|add|retire` and `keyturn status`: through core's `KeyStore` contract only (no per-store code).
 *
 * @module
 */
import { addActiveKey, canRetire, readiness, retirePreviousKey } from '@keyturn/rotation';
import { formatTime, parseDuration, progressPrinter, readSecretFlag, type CliIo } from '../common.ts';
import { EXIT, UsageError } from '../exit.ts';
import { type Values, secretIdOf, withStore, versionsTable, publicVersion, warnOpenEnded } from './shared.ts';
import { loadUsage, quietOf, renderReadiness } from './usage.ts';

/** `keyturn keys list`. */
export async function keysListCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  return withStore(io, values, async ({ store, flags }) => {
    progressPrinter(io, values['progress'] !== false)(`reading ${secretId} from the ${store.name} store`);
    const versions = await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) });
    warnOpenEnded(io, secretId, versions, flags);
    if (values['json'] === true)
      io.stdout(JSON.stringify({ secretId, store: store.name, keys: versions.map(publicVersion) }, null, 2) + '\n');
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
        io.stdout(
          `${secretId}: ${result.previousId} is previous${result.previousNotAfter === undefined ? '' : ` until ${formatTime(result.previousNotAfter)}`}\n`,
        );
      }
    }
    return EXIT.OK;
  });
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
    else
      io.stdout(result.retiredId === undefined ? `${secretId}: there is no previous key\n` : `${secretId}: retired ${result.retiredId}\n`);
    return EXIT.OK;
  });
}
