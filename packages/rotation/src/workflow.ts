/**
 * Store-side rotation steps shared by the provider workflows: write a new active key (idempotent,
 * retried, never losing the secret), retire the previous key, and keep a recovery file.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { KeyStoreError, SecretMaterial, type Fleet, type KeyStore, type RetirePreviousResult, type SecretVersion } from '@keyturn/core';
import { RotationError } from './errors.ts';
import { announceChange, audienceOf, type RotationAudience } from './fleet.ts';
import { readiness, type ReadinessOptions, type UsageSnapshot } from './readiness.ts';
import type { KeyUsageReport } from '@keyturn/core';

/** A progress event of a workflow step that waits on the network. */
export interface ProgressEvent {
  /** Step name: `store-read`, `provider-rotate`, `provider-rotated`, `store-write`, `store-write-retry`, `store-confirm`. */
  readonly step: string;
  /** Human-readable, secret-free. */
  readonly message: string;
  /** Attempt number, for retried steps. */
  readonly attempt?: number;
}

/** Backoff of the store write. */
export interface StoreWriteRetry {
  /** Total attempts. @default 6 */
  attempts?: number;
  /** Delay before the second attempt, doubled each time, ms. @default 500 */
  initialDelayMs?: number;
  /** Largest delay, ms. @default 10_000 */
  maxDelayMs?: number;
}

/** @internal Inputs of {@link writeKeyWithRetry}. */
export interface WriteKeyInput {
  store: KeyStore;
  secretId: string;
  secret: SecretMaterial;
  graceMs: number;
  retry?: StoreWriteRetry | undefined;
  signal?: AbortSignal | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  progress: (event: ProgressEvent) => void;
  provider?: string | undefined;
  recoveryCommand?: string | undefined;
}

/** What a store write reports. */
export interface WriteKeyResult {
  /** Secret id written. */
  readonly secretId: string;
  /** Id of the new active version. */
  readonly activeId: string;
  /** Id of the version that became (or stayed) previous. */
  readonly previousId?: string | undefined;
  /** End of the previous version's window, epoch ms. */
  readonly previousNotAfter?: number | undefined;
  /**
   * `true` when the previous version has **no window end**: it keeps verifying until it is retired
   * (`retirePreviousKey`, `keyturn keys retire`, the store's own tools). A line in `warnings` says so.
   */
  readonly previousUnbounded: boolean;
  /** Attempts used. */
  readonly attempts: number;
  /** Whether reading back showed the new secret as active. */
  readonly confirmed: boolean;
  /** True when the store already held the secret as active (nothing was demoted). */
  readonly alreadyActive: boolean;
  /** Non-fatal findings. */
  readonly warnings: readonly string[];
}

const DEFAULT_RECOVERY = (secretId: string, graceMs: number): string =>
  `keyturn keys add --secret-id ${secretId} --secret-file <secret-file> --grace ${graceMs}ms <the same --store flags>`;

/**
 * Writes `secret` as the active key of `secretId` with retries, idempotently: before every attempt
 * it reads the store, and if the secret is already active it stops (a lost answer of a write that
 * landed, or a repeated run, never demotes the previous key a second time). On final failure it
 * throws `RotationError('STORE_WRITE_FAILED')` carrying the secret in `recovery`.
 */
export async function writeKeyWithRetry(input: WriteKeyInput): Promise<WriteKeyResult> {
  const { store, secretId, secret, graceMs, signal, progress } = input;
  const attempts = Math.max(1, input.retry?.attempts ?? 6);
  const initial = input.retry?.initialDelayMs ?? 500;
  const maxDelay = input.retry?.maxDelayMs ?? 10_000;
  const sleep = input.sleep ?? realSleep;
  const rotate = store.rotate?.bind(store);
  const recover = (message: string, attempt: number, cause: unknown): RotationError =>
    new RotationError('STORE_WRITE_FAILED', message, {
      secretId,
      provider: input.provider,
      attempts: attempt,
      cause,
      recovery: { secret, secretId, store: store.name, graceMs, command: input.recoveryCommand ?? DEFAULT_RECOVERY(secretId, graceMs) },
    });
  if (rotate === undefined) throw recover(`The ${store.name} store cannot write secrets (no rotate())`, 0, undefined);

  // One token for every attempt: stores that support it (AWS ClientRequestToken) dedupe retries.
  const idempotencyToken = randomUUID();
  let lastError: unknown;
  /** Writes actually tried (a terminal error stops the loop early: never report the configured maximum). */
  let made = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      const delay = Math.min(maxDelay, initial * 2 ** (attempt - 2)) * (0.75 + Math.random() * 0.5);
      progress({
        step: 'store-write-retry',
        message: `store write failed; retrying in ${Math.round(delay)} ms (attempt ${attempt}/${attempts})`,
        attempt,
      });
      try {
        await sleep(delay, undefined);
      } catch {
        // a sleep never aborts the recovery path
      }
    }
    if (signal?.aborted) {
      throw recover(`The rotation was aborted before the new secret reached the ${store.name} store`, attempt - 1, signal.reason);
    }
    try {
      const current = await readVersions(store, secretId);
      const active = current?.find((v) => v.role === 'active');
      if (active !== undefined && sameSecret(secret, active.secret)) {
        const previous = current?.find((v) => v.role === 'previous');
        progress({ step: 'store-write', message: `${secretId} already holds the new secret as active; nothing to write` });
        const unbounded = previous !== undefined && previous.notAfter === undefined;
        return {
          secretId,
          activeId: active.id,
          previousId: previous?.id,
          previousNotAfter: previous?.notAfter,
          previousUnbounded: unbounded,
          attempts: attempt - 1,
          confirmed: true,
          alreadyActive: true,
          warnings: unbounded ? [noEndWarning(previous.id)] : [],
        };
      }
      // A previous key still inside its window is about to be replaced: say so (it is right for a
      // provider that no longer signs with it, like Dataspike after a second rotation).
      const before = current?.find((v) => v.role === 'previous');
      const dropped =
        before !== undefined && (before.notAfter === undefined || before.notAfter > Date.now())
          ? `previous key ${before.id} (window ${before.notAfter === undefined ? 'open-ended' : `until ${new Date(before.notAfter).toISOString()}`}) is no longer accepted; the key that was active becomes previous`
          : undefined;
      progress({ step: 'store-write', message: `writing ${secretId} to the ${store.name} store`, attempt });
      made = attempt;
      const result = await rotate(secretId, secret.reveal(), { previousGraceMs: graceMs, idempotencyToken, signal: signal ?? undefined });
      progress({ step: 'store-confirm', message: `reading ${secretId} back` });
      const after = await readVersions(store, secretId);
      const confirmed = after?.some((v) => v.role === 'active' && sameSecret(secret, v.secret)) ?? false;
      // A previous key with no end is accepted forever unless someone retires it: never let that pass silently.
      const unbounded = result.previousUnbounded ?? (result.previousId !== undefined && result.previousNotAfter === undefined);
      const storeWarnings = result.warnings ?? [];
      return {
        secretId,
        activeId: result.activeId,
        previousId: result.previousId,
        previousNotAfter: result.previousNotAfter,
        previousUnbounded: unbounded,
        attempts: attempt,
        confirmed,
        alreadyActive: false,
        warnings: [
          ...(dropped === undefined ? [] : [dropped]),
          ...storeWarnings,
          // The store's own warnings explain an unbounded previous key; a store that says nothing gets ours.
          ...(unbounded && result.previousId !== undefined && storeWarnings.length === 0 ? [noEndWarning(result.previousId)] : []),
          ...(confirmed ? [] : ['reading the store back did not show the new secret as active yet (eventual consistency?)']),
        ],
      };
    } catch (err) {
      lastError = err;
      if (err instanceof KeyStoreError && !err.retryable) break;
      if (err instanceof TypeError) break;
    }
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw recover(
    `The new secret could not be written to the ${store.name} store after ${made} attempt${made === 1 ? '' : 's'} (${why}). It is NOT lost: it is in this error's recovery; finish the write with the recovery command.`,
    made,
    lastError,
  );
}

/** The warning for a previous key with no end. */
function noEndWarning(previousId: string): string {
  return `the previous key ${previousId} has no window end: it stays accepted until you retire it (keyturn keys retire, or the store's own tools) once no sender uses it`;
}

async function readVersions(store: KeyStore, secretId: string): Promise<SecretVersion[] | undefined> {
  try {
    return await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) });
  } catch {
    return undefined; // a failed read must not stop the write; the write decides
  }
}

/**
 * Options of {@link addActiveKey}. `verifier` (this process) and `fleet` (every instance) are told once
 * the write lands; `fenceTtlMs` is not used (no sender call to fence).
 */
export interface AddActiveKeyOptions extends Omit<RotationAudience, 'fenceTtlMs'> {
  /** A writable store. */
  store: KeyStore;
  /** Secret id. */
  secretId: string;
  /** The new secret (read it from the environment or a file). */
  secret: string | Uint8Array | SecretMaterial;
  /** How long the old active stays accepted as previous, ms. */
  graceMs: number;
  /** Store-write retries. */
  storeWrite?: StoreWriteRetry;
  /** Progress events. */
  onProgress?: (event: ProgressEvent) => void;
  /** Aborts. */
  signal?: AbortSignal;
  /** Sleep between retries. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Adds a new active key; the old active becomes previous for `graceMs`. The first step of a
 * Smartcar rotation (the new management token from the dashboard) and the way to finish a
 * Dataspike rotation from a recovery file. Idempotent: when the secret is already active, nothing
 * changes.
 */
export async function addActiveKey(options: AddActiveKeyOptions): Promise<WriteKeyResult> {
  const secret = options.secret instanceof SecretMaterial ? options.secret : new SecretMaterial(options.secret);
  if (!(options.graceMs >= 0) || !Number.isFinite(options.graceMs))
    throw new TypeError('addActiveKey(): `graceMs` must be a non-negative number of ms');
  const audience = audienceOf('addActiveKey()', options);
  const progress = options.onProgress ?? (() => undefined);
  const written = await writeKeyWithRetry({
    store: options.store,
    secretId: options.secretId,
    secret,
    graceMs: options.graceMs,
    retry: options.storeWrite,
    signal: options.signal,
    sleep: options.sleep,
    progress,
  });
  const warnings = await announceChange(audience, options.secretId, written.activeId, progress);
  return warnings.length === 0 ? written : { ...written, warnings: [...written.warnings, ...warnings] };
}

/** Whether `store` implements the optional `retirePrevious` of core's `KeyStore` contract. */
export function canRetire(store: KeyStore): store is KeyStore & Required<Pick<KeyStore, 'retirePrevious'>> {
  return typeof store.retirePrevious === 'function';
}

/**
 * Options of {@link retirePreviousKey}. With a `fleet` and no `usage`, the fleet-wide ledger
 * (`fleet.usage(secretId)`) decides; `verifier` / `fleet` are told once the key is gone.
 */
export interface RetirePreviousKeyOptions extends Omit<RotationAudience, 'fenceTtlMs' | 'fleet'> {
  /** A fleet: its ledger is the usage to check (unless `usage` is given), and every instance hears the change. */
  fleet?: RotationAudience['fleet'] & Partial<Pick<Fleet, 'usage'>>;
  /** The store. */
  store: KeyStore;
  /** Secret id. */
  secretId: string;
  /** Retire only if the previous key still has this id. */
  keyId?: string;
  /**
   * Usage to check first (this process's `verifier.usage()` or merged snapshots): refuses with
   * `NOT_SAFE_TO_RETIRE` unless the verdict says safe. Omit only with `force`.
   */
  usage?: UsageSnapshot | readonly KeyUsageReport[];
  /** Readiness options for the check. */
  readiness?: ReadinessOptions;
  /** Retire without a usage check. @default false */
  force?: boolean;
  /** Aborts. */
  signal?: AbortSignal;
}

/** What {@link retirePreviousKey} reports: the store's result and what could not be done around it. */
export interface RetirePreviousKeyResult extends RetirePreviousResult {
  /**
   * Lines to show the operator, e.g. that the fleet could not be told (its instances then drop the key
   * at their next refresh instead of at once). Never contains a secret.
   */
  readonly warnings: readonly string[];
}

/** Retires the previous key of `secretId`, after checking the readiness verdict. */
export async function retirePreviousKey(options: RetirePreviousKeyOptions): Promise<RetirePreviousKeyResult> {
  const { store, secretId } = options;
  if (!canRetire(store)) {
    throw new RotationError(
      'STORE_CANNOT_RETIRE',
      `The ${store.name} store has no retirePrevious(); remove the previous version with the store's own tools`,
      { secretId },
    );
  }
  const audience = audienceOf('retirePreviousKey()', options);
  if (options.force !== true) {
    const usage = options.usage ?? (typeof options.fleet?.usage === 'function' ? await options.fleet.usage(secretId) : undefined);
    if (usage === undefined) throw new TypeError('retirePreviousKey(): pass `usage` or a `fleet` (or `force: true`)');
    const versions = await store.getVersions(secretId, { signal: options.signal ?? new AbortController().signal });
    const report = readiness(usage, {
      ...options.readiness,
      current: versions.map((v) => ({ secretId, keyId: v.id, keyRole: v.role, notBefore: v.notBefore, notAfter: v.notAfter })),
    });
    const verdict = report.verdicts.find((v) => v.secretId === secretId);
    if (verdict !== undefined && !verdict.safe) {
      throw new RotationError('NOT_SAFE_TO_RETIRE', `${secretId}: ${verdict.message}`, { secretId });
    }
  }
  const result = await store.retirePrevious(secretId, { keyId: options.keyId, signal: options.signal });
  const warnings = result.retiredId === undefined ? [] : await announceChange(audience, secretId, undefined, () => undefined);
  return { ...result, warnings };
}

/**
 * Writes a recovery secret to `path` with mode 0600, refusing to overwrite an existing file.
 * Never logs the secret; returns the path.
 */
export async function writeRecoveryFile(path: string, secret: SecretMaterial): Promise<string> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(secret.reveal());
    await handle.sync();
  } finally {
    await handle.close();
  }
  return path;
}

/** Byte equality of a wrapped secret and a stored value, whether each is text or bytes. */
function sameSecret(secret: SecretMaterial, stored: string | Uint8Array): boolean {
  const a = secret.reveal();
  const x = typeof a === 'string' ? new TextEncoder().encode(a) : a;
  const y = typeof stored === 'string' ? new TextEncoder().encode(stored) : stored;
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

function realSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
