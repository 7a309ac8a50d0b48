/**
 * Dataspike: a client for the webhook-secret rotate endpoint, and the workflow that rotates and
 * stores the new secret without ever losing it.
 *
 * Sourced from Dataspike's API reference ("Rotate Webhook HMAC Secret"):
 * `POST /api/v3/organization/webhooks/{webhook_id}/hmac/rotate`, API key in the `ds-api-token`
 * header, no request body, response `{ "hmac_signing_secret": "whsec_…" }` ("shown only once";
 * "replaces the previous one immediately"). The reference documents only the success response;
 * the mapping of other statuses below (401/403, 404, 429, 5xx) is our assumption.
 *
 * @module
 */
import { KeyStoreError, SecretMaterial, providers, type KeyStore } from '@keyturn/core';
import { ProviderApiError, RotationError } from './errors.ts';
import { announceChange, announceFence, audienceOf, endFence, type RotationAudience } from './fleet.ts';
import { writeKeyWithRetry, type ProgressEvent, type StoreWriteRetry, type WriteKeyResult } from './workflow.ts';

/** Production API base URL. */
export const DATASPIKE_API_URL = 'https://api.dataspike.io';
/** Sandbox API base URL. */
export const DATASPIKE_SANDBOX_API_URL = 'https://sandboxapi.dataspike.io';

/** Options of {@link dataspikeClient}. */
export interface DataspikeClientOptions {
  /** The API key (`ds-api-token`). Read it from the environment or a file, never from a command line. */
  apiKey: string | SecretMaterial;
  /** Base URL: production, `DATASPIKE_SANDBOX_API_URL`, or any URL (a proxy, a test server). @default DATASPIKE_API_URL */
  baseUrl?: string;
  /** Fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per-attempt timeout, ms. @default 30_000 */
  timeoutMs?: number;
  /**
   * Attempts for the rotate call on retryable failures (network, timeout, 429, 5xx). A retry after a
   * lost response rotates again: the secret of the lost response was never seen, so Dataspike
   * signing with a newer one we do see is what we want. @default 3
   */
  attempts?: number;
  /** Delay before the second attempt, doubled each time (a 429's `Retry-After` wins), ms. @default 1_000 */
  retryDelayMs?: number;
  /** Sleep used between attempts (tests pass an instant one). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A Dataspike management-API client. */
export interface DataspikeClient {
  /** Base URL in use. */
  readonly baseUrl: string;
  /** Rotates the webhook's HMAC secret and returns the new one (shown once by Dataspike). */
  rotateWebhookSecret(
    webhookId: string,
    options?: { signal?: AbortSignal; onAttempt?: (attempt: number) => void },
  ): Promise<SecretMaterial>;
}

/**
 * Creates a Dataspike management-API client.
 *
 * @example
 * ```ts
 * const client = dataspikeClient({ apiKey: process.env.DATASPIKE_API_KEY!, baseUrl: DATASPIKE_SANDBOX_API_URL });
 * const secret = await client.rotateWebhookSecret(webhookId); // a SecretMaterial: prints redacted
 * ```
 */
export function dataspikeClient(options: DataspikeClientOptions): DataspikeClient {
  const apiKey = options.apiKey instanceof SecretMaterial ? options.apiKey : new SecretMaterial(options.apiKey);
  const key = apiKey.reveal();
  if (typeof key !== 'string' || key.length === 0 || /\s/.test(key)) {
    throw new TypeError('dataspikeClient(): `apiKey` must be a non-empty string without whitespace');
  }
  const baseUrl = (options.baseUrl ?? DATASPIKE_API_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) throw new TypeError('dataspikeClient(): `baseUrl` must be an http(s) URL');
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const sleep = options.sleep ?? defaultSleep;
  const provider = 'dataspike';

  async function once(webhookId: string, signal: AbortSignal | undefined): Promise<SecretMaterial> {
    const url = `${baseUrl}/api/v3/organization/webhooks/${encodeURIComponent(webhookId)}/hmac/rotate`;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { 'ds-api-token': key as string, accept: 'application/json' },
        signal: combined,
      });
    } catch (err) {
      // Once the request may have been sent, Dataspike may have rotated without us seeing the answer.
      if (signal?.aborted)
        throw new ProviderApiError('ABORTED', 'dataspike: the rotate call was aborted while in flight', {
          retryable: false,
          provider,
          cause: err,
          mayHaveRotated: true,
        });
      if (timeout.aborted)
        throw new ProviderApiError('TIMEOUT', `dataspike: no answer within ${timeoutMs} ms`, {
          retryable: true,
          provider,
          mayHaveRotated: true,
        });
      const code = networkCode(err);
      const sent = code === undefined || !NOT_SENT.has(code);
      throw new ProviderApiError(
        'NETWORK',
        sent
          ? `dataspike: the connection to ${baseUrl} was lost before an answer arrived (${code ?? (err as Error).message})`
          : `dataspike: cannot reach ${baseUrl} (${code})`,
        { retryable: true, provider, mayHaveRotated: sent },
      );
    }
    const status = response.status;
    if (status === 200 || status === 201) {
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        throw new ProviderApiError(
          'BAD_RESPONSE',
          'dataspike: the rotate response is not JSON; the secret may have rotated: rotate again',
          {
            status,
            retryable: false,
            provider,
            mayHaveRotated: true,
          },
        );
      }
      const secret = (body as { hmac_signing_secret?: unknown } | null)?.hmac_signing_secret;
      if (typeof secret !== 'string' || secret.length === 0) {
        throw new ProviderApiError(
          'BAD_RESPONSE',
          'dataspike: the rotate response has no hmac_signing_secret; the secret may have rotated: rotate again',
          {
            status,
            retryable: false,
            provider,
            mayHaveRotated: true,
          },
        );
      }
      return new SecretMaterial(secret);
    }
    await response.body?.cancel().catch(() => undefined);
    if (status === 401 || status === 403) {
      throw new ProviderApiError('UNAUTHORIZED', `dataspike: the API key was refused (HTTP ${status})`, {
        status,
        retryable: false,
        provider,
      });
    }
    if (status === 404)
      throw new ProviderApiError('NOT_FOUND', `dataspike: webhook ${webhookId} not found (HTTP 404)`, {
        status,
        retryable: false,
        provider,
      });
    if (status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new ProviderApiError('RATE_LIMITED', 'dataspike: rate limited (HTTP 429)', {
        status,
        retryable: true,
        provider,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
      });
    }
    // A 5xx does not say whether the rotation happened before the failure (a gateway timeout, a crash
    // after the write): assume it may have.
    if (status >= 500)
      throw new ProviderApiError('SERVER_ERROR', `dataspike: server error (HTTP ${status})`, {
        status,
        retryable: true,
        provider,
        mayHaveRotated: true,
      });
    throw new ProviderApiError('BAD_REQUEST', `dataspike: the rotate call was refused (HTTP ${status})`, {
      status,
      retryable: false,
      provider,
    });
  }

  return {
    baseUrl,
    async rotateWebhookSecret(webhookId, callOptions = {}) {
      if (typeof webhookId !== 'string' || webhookId.length === 0) throw new TypeError('rotateWebhookSecret(): `webhookId` is required');
      const outcomes: string[] = [];
      let mayHaveRotated = false;
      for (let attempt = 1; ; attempt++) {
        callOptions.onAttempt?.(attempt);
        try {
          return await once(webhookId, callOptions.signal);
        } catch (err) {
          if (!(err instanceof ProviderApiError)) throw err;
          outcomes.push(
            err.status !== undefined
              ? `HTTP ${err.status}`
              : err.code === 'NETWORK'
                ? err.mayHaveRotated
                  ? 'connection lost'
                  : 'unreachable'
                : err.code.toLowerCase(),
          );
          // Any attempt that may have rotated makes the whole call ambiguous, whatever the last one says.
          mayHaveRotated ||= err.mayHaveRotated;
          if (!err.retryable || attempt >= attempts) throw withHistory(err, outcomes, mayHaveRotated);
          await sleep(err.retryAfterMs ?? retryDelayMs * 2 ** (attempt - 1), callOptions.signal);
        }
      }
    },
  };
}

/** Network error codes that mean the request never left this machine (nothing can have rotated). */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The error code of a fetch failure (undici puts it on `cause`, sometimes an AggregateError's). */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const c = (inner[0] as { code?: unknown }).code;
      if (typeof c === 'string') return c;
    }
  }
  return undefined;
}

/** The final error of a retried call, naming every attempt's outcome. */
function withHistory(err: ProviderApiError, outcomes: readonly string[], mayHaveRotated: boolean): ProviderApiError {
  if (outcomes.length <= 1 && mayHaveRotated === err.mayHaveRotated) return err;
  return new ProviderApiError(err.code, `${err.message}; ${outcomes.length} attempts: ${outcomes.join(', ')}`, {
    status: err.status,
    retryable: err.retryable,
    provider: err.provider,
    retryAfterMs: err.retryAfterMs,
    mayHaveRotated,
    cause: err.cause,
  });
}

/**
 * Options of {@link rotateDataspikeSecret}. With `verifier` (this process) or `fleet` (every instance),
 * a rotation fence is announced before the rotate call and a key-change notice follows the store write,
 * so no delivery signed with the new secret is answered 401 (see {@link RotationAudience}).
 */
export interface RotateDataspikeSecretOptions extends RotationAudience {
  /** The Dataspike API key. */
  apiKey: string | SecretMaterial;
  /** The webhook whose secret rotates. */
  webhookId: string;
  /** A writable store (`rotate`): env-file, AWS, GCP, or your own. */
  store: KeyStore;
  /** The secret id the verifier reads. */
  secretId: string;
  /** How long the old secret stays accepted as previous, ms. */
  graceMs: number;
  /** API base URL. @default DATASPIKE_API_URL */
  baseUrl?: string;
  /** A client to use instead of building one from `apiKey`/`baseUrl`. */
  client?: DataspikeClient;
  /** Fetch implementation for the built client. */
  fetch?: typeof fetch;
  /** Store-write retries: the new secret exists only in memory until a write succeeds. */
  storeWrite?: StoreWriteRetry;
  /**
   * Called with the new secret as soon as Dataspike returns it, **before** the store write
   * (write-ahead): persist it somewhere safe (the CLI writes a 0600 recovery file). A throw here
   * is reported in `warnings` and does not stop the store write.
   */
  onSecret?: (secret: SecretMaterial) => void | Promise<void>;
  /** The command that finishes a failed write (`<secret-file>` = a file holding the secret). */
  recoveryCommand?: string;
  /** The command that runs this rotation again, quoted in a `PROVIDER_MAY_HAVE_ROTATED` error. */
  rerunCommand?: string;
  /** Progress for anything that waits on the network. */
  onProgress?: (event: ProgressEvent) => void;
  /** Aborts the workflow (after the provider rotated, an abort still yields the recovery error). */
  signal?: AbortSignal;
  /** Sleep between retries (tests pass an instant one). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Proceed when the store does not hold the secret yet (first setup). @default false */
  allowMissing?: boolean;
  /**
   * With a `fleet`: refuse to rotate (`RotationError('FENCE_UNAVAILABLE')`, before Dataspike's rotate
   * call, nothing changed) when the rotation fence cannot be announced to it. `false` rotates anyway
   * with a warning: deliveries that race the store write may then be answered 401 by instances that
   * have not reloaded. Without a fleet it has no effect. @default true
   */
  requireFence?: boolean;
}

/** What {@link rotateDataspikeSecret} reports (ids only, never secrets). */
export type DataspikeRotationResult = WriteKeyResult;

/**
 * Rotates a Dataspike webhook secret and stores the new one as active, the old one as previous for
 * `graceMs`.
 *
 * 1. Reads the store first: if it cannot be read (or cannot be written at all), nothing rotates.
 *    With a `fleet`, announces the rotation fence to it: if that fails, nothing rotates either
 *    (`RotationError('FENCE_UNAVAILABLE')`; `requireFence: false` goes on with a warning).
 * 2. Calls Dataspike's rotate endpoint (retried on network errors, 429 and 5xx).
 * 3. Hands the new secret to `onSecret` (write-ahead), then writes it to the store with backoff.
 *    Before each retry it re-reads the store: a write that landed but whose answer was lost is
 *    not repeated, so the previous key is never demoted twice.
 * 4. If every write fails, throws `RotationError('STORE_WRITE_FAILED')` whose `recovery` holds
 *    the new secret (redacted everywhere) and the command that finishes the write.
 *
 * Running it twice by mistake is safe: Dataspike signs with the newest secret, the store holds it
 * as active and the one Dataspike used just before as previous; the very first secret is dropped,
 * which is right because Dataspike never signs with it again.
 */
export async function rotateDataspikeSecret(options: RotateDataspikeSecretOptions): Promise<DataspikeRotationResult> {
  const { store, secretId, graceMs, signal } = options;
  const progress = options.onProgress ?? (() => undefined);
  if (typeof store?.rotate !== 'function') {
    throw new RotationError(
      'STORE_NOT_WRITABLE',
      `The ${store?.name ?? 'given'} store cannot write secrets (no rotate()); nothing was rotated`,
      {
        secretId,
        provider: 'dataspike',
      },
    );
  }
  if (!(graceMs >= 0) || !Number.isFinite(graceMs))
    throw new TypeError('rotateDataspikeSecret(): `graceMs` must be a non-negative number of ms');
  const client =
    options.client ?? dataspikeClient({ apiKey: options.apiKey, baseUrl: options.baseUrl, fetch: options.fetch, sleep: options.sleep });
  const audience = audienceOf('rotateDataspikeSecret()', options);
  if (options.requireFence !== undefined && typeof options.requireFence !== 'boolean') {
    throw new TypeError('rotateDataspikeSecret(): `requireFence` must be true or false');
  }

  // 1. The store must be readable before the irreversible step.
  progress({ step: 'store-read', message: `reading ${secretId} from the ${store.name} store` });
  try {
    await store.getVersions(secretId, { signal: signal ?? new AbortController().signal });
  } catch (err) {
    const missing = err instanceof KeyStoreError && !err.retryable && /NOT_FOUND|ResourceNotFound/i.test(err.reason ?? '');
    if (!(missing && options.allowMissing === true)) {
      throw new RotationError(
        'STORE_READ_FAILED',
        `Cannot read ${secretId} from the ${store.name} store (${err instanceof Error ? err.message : String(err)}); nothing was rotated at Dataspike`,
        { secretId, provider: 'dataspike', cause: err },
      );
    }
  }

  // 2. Fence: Dataspike signs with the new secret the moment it answers, before the store write lands;
  // the verifiers answer those deliveries 503 (retried) instead of 401 until the key-change notice.
  // A fleet that cannot be told stops the rotation here, before anything changed (unless opted out).
  const warnings: string[] = await announceFence(audience, secretId, progress, options.requireFence !== false, {
    id: 'dataspike',
    name: 'Dataspike',
  });

  // 3. Rotate at Dataspike.
  progress({ step: 'provider-rotate', message: `calling Dataspike rotate for webhook ${options.webhookId} at ${client.baseUrl}` });
  let secret: SecretMaterial;
  try {
    secret = await client.rotateWebhookSecret(options.webhookId, {
      signal,
      onAttempt: (attempt) =>
        attempt > 1 && progress({ step: 'provider-rotate', message: `retrying Dataspike rotate (attempt ${attempt})`, attempt }),
    });
  } catch (err) {
    await endFence(audience, secretId);
    const why = err instanceof Error ? err.message : String(err);
    if (err instanceof ProviderApiError && err.mayHaveRotated) {
      const rerun = options.rerunCommand ?? 'rotateDataspikeSecret() with the same options';
      const add = (options.recoveryCommand ?? 'addActiveKey({ store, secretId, secret, graceMs })').replace(
        '<secret-file>',
        '<file with the secret>',
      );
      throw new RotationError(
        'PROVIDER_MAY_HAVE_ROTATED',
        `Dataspike may have rotated the secret of webhook ${options.webhookId}, but its answer was lost (${why}). ` +
          `The ${store.name} store still holds the previous secret as ${secretId}, so webhooks Dataspike signs with a new secret fail verification until this is fixed. ` +
          `Nothing was written to the store. Do this now: ` +
          `(1) rotate again: ${rerun} — Dataspike replaces its secret at once, this time the new one is stored, and the secret the store holds now stays accepted as previous for the grace; ` +
          `(2) if Dataspike stays unreachable, copy the current secret from the Dataspike dashboard into a file and add it: ${add}.`,
        { secretId, provider: 'dataspike', cause: err },
      );
    }
    throw new RotationError('PROVIDER_ROTATE_FAILED', `Dataspike rotate failed, nothing changed at Dataspike or in the store: ${why}`, {
      secretId,
      provider: 'dataspike',
      cause: err,
    });
  }
  progress({ step: 'provider-rotated', message: 'Dataspike issued a new secret (it now signs with it)' });

  try {
    providers.dataspike().decodeSecret(secret.reveal());
  } catch {
    warnings.push('the new secret is not in the documented whsec_<hex> form; stored as returned');
  }

  // 4. Write-ahead, then the store write (a failed write leaves the fence to its TTL: the recovery
  // command's `keys add` ends it with its own notice).
  if (options.onSecret !== undefined) {
    try {
      await options.onSecret(secret);
    } catch (err) {
      warnings.push(`onSecret failed (${err instanceof Error ? err.message : String(err)}); continuing with the store write`);
    }
  }
  const written = await writeKeyWithRetry({
    store,
    secretId,
    secret,
    graceMs,
    retry: options.storeWrite,
    signal,
    sleep: options.sleep,
    progress,
    provider: 'dataspike',
    recoveryCommand: options.recoveryCommand,
  });
  // 5. Every verifier reloads now; the fence ends.
  warnings.push(...(await announceChange(audience, secretId, written.activeId, progress)));
  return { ...written, warnings: [...warnings, ...written.warnings] };
}

/** @internal */
function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
