/**
 * Deadlines: every store call runs under `AbortSignal.any([caller, AbortSignal.timeout(ms)])` and
 * settles as soon as either fires, even when the SDK drops the signal (paged listings).
 *
 * @module
 */
import type { KeyStoreError } from '../errors.ts';
import { abortedError, timeoutError, type StoreIdentity } from './errors.ts';

/** One call of {@link callWithDeadline}. */
export interface DeadlineCall extends StoreIdentity {
  /** Secret the call is for (for messages). */
  readonly secretId: string | undefined;
  /** What is being done (`DescribeSecret`, `listing versions`, ...). */
  readonly action: string;
  /** The caller's signal. */
  readonly signal: AbortSignal | undefined;
  /** Hard limit of the call, retries included, in ms. */
  readonly timeoutMs: number;
  /** Turns any other failure into the store's error (reason, code, a safe cause). */
  readonly mapError: (err: unknown) => KeyStoreError;
}

/**
 * Runs `run(signal)` with the combined signal. Rejects with `ABORTED` when the caller's signal fires,
 * `TIMEOUT` when the deadline passes (both retryable), and otherwise with `mapError(err)`.
 */
export async function callWithDeadline<T>(call: DeadlineCall, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { signal } = call;
  if (signal?.aborted === true) throw abortedError(call, call.secretId, call.action, signal);
  const deadline = AbortSignal.timeout(call.timeoutMs);
  const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(combined.reason);
    combined.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run(combined), aborted]);
  } catch (err) {
    if (isAborted(signal)) throw abortedError(call, call.secretId, call.action, signal);
    if (deadline.aborted) throw timeoutError(call, call.secretId, call.action, call.timeoutMs);
    throw call.mapError(err);
  } finally {
    if (onAbort !== undefined) combined.removeEventListener('abort', onAbort);
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
