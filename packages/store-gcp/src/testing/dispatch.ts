/**
 * Shared call handling for the gRPC and REST fronts: call log, faults, cancellation.
 *
 * @module
 */
import { FakeStatusError, type FakeCall, type FakeMethod, type SecretManagerModel } from './model.ts';

/** What a front knows about an incoming call. */
export interface IncomingCall {
  readonly method: FakeMethod;
  readonly name: string;
  readonly transport: 'grpc' | 'rest';
  readonly routing: string | undefined;
  /** Aborted when the client cancels. */
  readonly signal: AbortSignal;
}

/** The outcome of {@link dispatch}: a value, or a status error. */
export type Outcome<T> = { ok: true; value: T; corruptCrc32c: boolean } | { ok: false; error: FakeStatusError };

/** Runs `op` under the model's faults and records the call. */
export async function dispatch<T>(model: SecretManagerModel, incoming: IncomingCall, op: () => T): Promise<Outcome<T> | undefined> {
  const record: FakeCall = {
    method: incoming.method,
    name: incoming.name,
    transport: incoming.transport,
    routing: incoming.routing,
    cancelled: false,
  };
  model.calls.push(record);
  const onAbort = (): void => {
    record.cancelled = true;
  };
  if (incoming.signal.aborted) onAbort();
  else incoming.signal.addEventListener('abort', onAbort, { once: true });
  const fault = model.takeFault(incoming.method, incoming.name);
  if (fault !== undefined && (fault.hang === true || (fault.delayMs ?? 0) > 0)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      const timer = fault.hang === true ? undefined : setTimeout(done, fault.delayMs);
      if (incoming.signal.aborted) done();
      else incoming.signal.addEventListener('abort', done, { once: true });
    });
  }
  incoming.signal.removeEventListener('abort', onAbort);
  if (incoming.signal.aborted) {
    record.cancelled = true;
    return undefined;
  }
  fault?.onCall?.();
  if (fault?.status !== undefined) {
    return { ok: false, error: new FakeStatusError(fault.status, fault.message ?? `Injected ${fault.status}.`) };
  }
  try {
    return { ok: true, value: op(), corruptCrc32c: fault?.corruptCrc32c === true };
  } catch (err) {
    if (err instanceof FakeStatusError) return { ok: false, error: err };
    return { ok: false, error: new FakeStatusError('INTERNAL', err instanceof Error ? err.message : 'internal error') };
  }
}
