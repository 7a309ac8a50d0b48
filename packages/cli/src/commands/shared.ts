/**
 * Helpers the commands share: providers by name, the body, the secret id, the store, key tables, errors → exit codes.
 *
 * @module
 */
import { KeyStoreError, providers, VerificationError, type ProviderProfile, type SecretVersion } from '@keyturn/core';
import { RotationError } from '@keyturn/rotation';
import { describeError, formatTime, shellQuote, table, type CliIo } from '../common.ts';
import { CliError, EXIT, rotationExitCode, UsageError, verificationExitCode } from '../exit.ts';
import { openStore, type OpenedStore } from '../stores.ts';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export type Values = Record<string, unknown>;
/** Every built-in profile, by the name `--provider` takes. */
export const PROFILES: Readonly<Record<string, () => ProviderProfile>> = {
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
export function profileOf(name: unknown): ProviderProfile {
  if (name === undefined) throw new UsageError(`pass --provider (${PROVIDER_NAMES})`);
  const make = typeof name === 'string' && Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (make === undefined) throw new UsageError(`--provider: unknown provider "${String(name)}" (${PROVIDER_NAMES})`);
  return make();
}
export async function readBody(io: CliIo, values: Values): Promise<Uint8Array> {
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
export function requireString(values: Values, flag: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${flag} is required`);
  return v;
}
export function secretIdOf(values: Values): string {
  return requireString(values, 'secret-id');
}
export async function withStore<T>(io: CliIo, values: Values, fn: (opened: OpenedStore) => Promise<T>): Promise<T> {
  const opened = await openStore(io, values);
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}
export function versionsTable(versions: readonly SecretVersion[], now: number): string {
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
export const publicVersion = (v: SecretVersion) => ({ id: v.id, role: v.role, notBefore: v.notBefore, notAfter: v.notAfter });
/** A previous key without a window end is accepted until someone retires it: say so on stderr. */
export function warnOpenEnded(io: CliIo, secretId: string, versions: readonly SecretVersion[], flags: string): void {
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
