/**
 * `keyturn keys list|add|retire` and `keyturn status`: through core's `KeyStore` contract only (no per-store code).
 *
 * @module
 */
import type { SecretVersion, UsageSnapshot, UsageTimeline } from '@keyturn/core';
import { addActiveKey, canRetire, formatDuration, mergeUsage, readiness, retirePreviousKey } from '@keyturn/rotation';
import { formatTime, parseDuration, progressPrinter, readSecretFlag, type CliIo } from '../common.ts';
import { EXIT, UsageError } from '../exit.ts';
import { timelineChart } from '../fleet.ts';
import { STORE_FILE_FLAG } from '../stores.ts';
import { trimTimeline, withCommandFleet } from './fleet.ts';
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
  // With --redis-url, a key-change notice after the store write: every instance reloads at once. With
  // --dynamodb-table, the key-change marker is bumped: every container reloads at its next poll. (A
  // fleet that cannot be reached warns; instances still reload on a miss.)
  return withCommandFleet(io, values, false, (fleet) =>
    withStore(io, values, async ({ store }) => {
      const result = await addActiveKey({
        store,
        secretId,
        secret: secret as string,
        graceMs,
        onProgress: (e) => progress(e.message),
        ...(fleet === undefined ? {} : { fleet: fleet.fleet }),
      });
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
    }),
  );
}
/**
 * `keyturn status`: keys, usage and the readiness verdict (with `--redis-url` or `--dynamodb-table`:
 * the fleet's; with `--redis-url`, the per-minute chart too).
 */
export async function statusCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  const quietMs = quietOf(values);
  const chartMs = values['chart'] === undefined ? 3_600_000 : parseDuration(values['chart'] as string, '--chart');
  if (chartMs > 86_400_000) throw new UsageError('--chart: at most 24h (the ledger keeps 24 h of per-minute counts)');
  const others = await loadUsage(io, values);
  const progress = progressPrinter(io, values['progress'] !== false);
  return withCommandFleet(io, values, true, async (fleet) => {
    const usage = fleet === undefined ? others : mergeWith(await fleet.usage(secretId, progress), others);
    const hours = Math.max(1, Math.ceil(chartMs / 3_600_000));
    const timeline: UsageTimeline | undefined = chartMs > 0 ? await fleet?.timeline?.(secretId, hours) : undefined;
    const judge = (versions: readonly SecretVersion[] | undefined, flags: string): number => {
      if (versions !== undefined) warnOpenEnded(io, secretId, versions, flags);
      const current = versions?.map((v) => ({ secretId, keyId: v.id, keyRole: v.role, notBefore: v.notBefore, notAfter: v.notAfter }));
      const report = readiness(usage ?? [], { now: io.now(), quietMs, ...(current === undefined ? {} : { current }) });
      const verdict = report.verdicts.find((v) => v.secretId === secretId);
      const known = usage !== undefined || verdict?.reason === 'no-previous' || verdict?.reason === 'window-ended';
      const shown = timeline === undefined ? undefined : trimTimeline(timeline, chartMs);
      if (values['json'] === true) {
        const extra = {
          usageKnown: usage !== undefined,
          instances: usage?.instances ?? [],
          missing: usage?.missing ?? [],
          gapUntil: usage?.gapUntil,
        };
        io.stdout(JSON.stringify({ ...report, ...extra, timeline: shown }, null, 2) + '\n');
      } else {
        renderReadiness(io, report, usage !== undefined);
        if (usage?.missing !== undefined && usage.missing.length > 0) {
          const late = usage.missing.map((m) => `${m.instance} (last report ${formatDuration(io.now() - m.lastReportAt)} ago)`);
          io.stdout(`not reporting: ${late.join(', ')}\n`);
        }
        if (shown !== undefined) {
          const labels = new Map(report.rows.filter((r) => r.secretId === secretId).map((r) => [r.keyId, r.keyRole]));
          io.stdout(`\n${timelineChart(shown, labels)}`);
        }
      }
      if (values['check'] === true) return known && verdict?.safe === true ? EXIT.OK : EXIT.NOT_SAFE;
      return EXIT.OK;
    };
    // With a fleet and no store flags, roles and windows come from the ledger.
    if (fleet !== undefined && values['store'] === undefined && values[STORE_FILE_FLAG] === undefined) return judge(undefined, fleet.flags);
    return withStore(io, values, async ({ store, flags }) => {
      progress(`reading ${secretId} from the ${store.name} store`);
      return judge(await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) }), flags);
    });
  });
}
/** The fleet's snapshot merged with the other usage reports, if any. */
function mergeWith(fleet: UsageSnapshot, others: UsageSnapshot | undefined): UsageSnapshot {
  return others === undefined ? fleet : mergeUsage([fleet, others]);
}
/** `keyturn keys retire`: removes the previous key once the verdict says safe. */
export async function keysRetireCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  const force = values['force'] === true;
  const others = await loadUsage(io, values);
  if (others === undefined && !force && values['dynamodb-table'] === undefined && values['redis-url'] === undefined) {
    throw new UsageError(
      'pass --redis-url URL / --dynamodb-table TABLE / --usage FILE / --usage-url URL so the readiness verdict can be checked, or --force',
    );
  }
  // With a fleet the fleet-wide ledger decides, and every instance hears (Redis: a notice, at once;
  // DynamoDB: the marker, at its next poll) once the key is gone.
  return withCommandFleet(io, values, !force, (fleet) =>
    withStore(io, values, async ({ store }) => {
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
      const progress = progressPrinter(io, values['progress'] !== false);
      const usage = fleet === undefined || force ? others : mergeWith(await fleet.usage(secretId, progress), others);
      const result = await retirePreviousKey({
        store,
        secretId,
        keyId: values['key-id'] as string | undefined,
        usage,
        force,
        readiness: { now: io.now(), quietMs: quietOf(values) },
        ...(fleet === undefined ? {} : { fleet: fleet.fleet }),
      });
      if (values['json'] === true) io.stdout(JSON.stringify({ secretId, ...result }, null, 2) + '\n');
      else
        io.stdout(
          result.retiredId === undefined ? `${secretId}: there is no previous key\n` : `${secretId}: retired ${result.retiredId}\n`,
        );
      for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
      return EXIT.OK;
    }),
  );
}
