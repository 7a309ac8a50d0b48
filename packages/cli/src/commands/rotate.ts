/**
 * `keyturn rotate dataspike`: the provider rotates, the new secret is kept in a recovery file until the store has it.
 *
 * @module
 */
import { DATASPIKE_SANDBOX_API_URL, rotateDataspikeSecret, RotationError, writeRecoveryFile } from '@keyturn/rotation';
import { formatTime, parseDuration, progressPrinter, readSecretFlag, shellQuote, type CliIo } from '../common.ts';
import { CliError, EXIT, UsageError } from '../exit.ts';
import { fenceTtlOf } from '../fleet.ts';
import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { withCommandFleet } from './fleet.ts';
import { type Values, requireString, secretIdOf, withStore } from './shared.ts';

/** `keyturn rotate dataspike`. */
export async function rotateDataspikeCommand(io: CliIo, values: Values): Promise<number> {
  const secretId = secretIdOf(values);
  const webhookId = requireString(values, 'webhook-id');
  const graceMs = parseDuration((values['grace'] as string | undefined) ?? '24h', '--grace');
  const apiKey = (await readSecretFlag(io, values, 'api-key', { required: true, defaultEnv: 'DATASPIKE_API_KEY' })) as string;
  const baseUrl = (values['base-url'] as string | undefined) ?? (values['sandbox'] === true ? DATASPIKE_SANDBOX_API_URL : undefined);
  const recoveryPath = resolve(
    io.cwd,
    (values['recovery-file'] as string | undefined) ??
      `keyturn-recovery-${secretId}-${new Date(io.now()).toISOString().replace(/[:.]/g, '-')}.secret`,
  );
  if (
    await stat(recoveryPath).then(
      () => true,
      () => false,
    )
  ) {
    throw new UsageError(`--recovery-file: ${recoveryPath} already exists; choose a new path (it is never overwritten)`);
  }
  const progress = progressPrinter(io, values['progress'] !== false);
  const fenceTtlMs = fenceTtlOf(values);
  // With --redis-url: the fence ("rotation in progress", a key with a TTL and a notice) before the
  // rotate call and the key-change notice after the store write. With --dynamodb-table: the rotation
  // fence on the secret's key-change marker before the rotate call (containers answer deliveries signed
  // with a key they do not hold yet 503, retried, not 401), and the marker bumped after the store write
  // (every container reloads at its next poll). A fleet that cannot hear the fence (Redis unreachable
  // when opened, or either fleet failing the announcement) stops the command before Dataspike is called
  // (exit 39), unless --allow-unfenced: then it warns and the rotation goes on.
  const allowUnfenced = values['allow-unfenced'] === true;
  const refuse = (why: string): CliError =>
    new CliError(
      `FENCE_UNAVAILABLE: ${why}, so the rotation fence could not be announced and nothing was rotated: ` +
        `Dataspike was not called and the store is unchanged. Without the fence, instances that have not reloaded would answer ` +
        `deliveries signed with the new secret 401 NO_MATCHING_KEY. Fix the fleet's reachability (Redis / DynamoDB) and run the ` +
        `same command again (safe to retry), or add --allow-unfenced to rotate without the fence.`,
      EXIT.FENCE_UNAVAILABLE,
    );
  return withCommandFleet(io, values, allowUnfenced ? false : (err) => refuse(err.message), (fleet) =>
    withStore(io, values, async ({ store, flags: storeFlags }) => {
      const flags = fleet === undefined ? storeFlags : `${storeFlags} ${fleet.flags}`;
      const addCommand = (file: string): string =>
        `keyturn keys add ${flags} --secret-id ${shellQuote(secretId)} --secret-file ${file} --grace ${graceMs}ms`;
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
          ...(fleet === undefined ? {} : { fleet: fleet.fleet }),
          ...(fenceTtlMs === undefined ? {} : { fenceTtlMs }),
          requireFence: !allowUnfenced,
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
          io.stdout(
            fleet === undefined
              ? `next: watch \`keyturn status ${flags} --secret-id ${shellQuote(secretId)} --provider dataspike --usage …\` and retire the old key when it says safe\n`
              : `next: watch \`keyturn status ${fleet.flags} --secret-id ${shellQuote(secretId)} --provider dataspike\` (the whole fleet) and retire the old key when it says safe\n`,
          );
        }
        return EXIT.OK;
      } catch (err) {
        if (err instanceof RotationError && err.code === 'FENCE_UNAVAILABLE') {
          const cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
          throw refuse(`${fleet?.flags.split(' ').slice(0, 2).join(' ') ?? 'the fleet'}: the fleet could not be told (${cause})`);
        }
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
            io.stderr(
              `The new secret is saved in ${recoveryPath} (mode 0600). Dataspike already signs with it. Finish with:\n  ${recoveryCommand}\nthen delete the file.\n`,
            );
          } else {
            io.stderr(
              'The new secret could not be saved anywhere; rotate again at once (Dataspike issues a fresh secret) once the store is writable.\n',
            );
          }
          return EXIT.STORE_WRITE_FAILED;
        }
        throw err;
      }
    }),
  );
}
