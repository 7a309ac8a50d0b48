/**
 * A third-party key store in ~60 lines: secrets kept in a Vault-KV-v2-style HTTP service
 * (`GET /v1/secret/metadata/:name` lists versions, `GET /v1/secret/data/:name?version=N` reads one).
 * It maps "current version" → active and "the version before it" → previous with a grace window,
 * classifies failures, honours the abort signal and never puts a secret in an error.
 */
import { KeyStoreError, type KeyStore, type SecretVersion } from '@keyturn/core';

export interface HttpKvStoreOptions {
  /** Base URL of the service. */
  baseUrl: string;
  /** Token sent as `X-Vault-Token`. */
  token: string;
  /** How long the previous version stays accepted after the current one was created, in ms. @default 86_400_000 */
  previousGraceMs?: number;
}

interface Metadata {
  current_version: number;
  versions: Record<string, { created_time: string; destroyed: boolean; deletion_time: string }>;
}

export function httpKvStore(options: HttpKvStoreOptions): KeyStore {
  const name = 'http-kv';
  const grace = options.previousGraceMs ?? 86_400_000;
  const values = new Map<string, string>(); // versions are immutable: fetch each once

  async function get<T>(secretId: string, path: string, signal: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, options.baseUrl), { headers: { 'x-vault-token': options.token }, signal });
    } catch (cause) {
      throw new KeyStoreError(`${name}: request failed`, {
        retryable: true,
        store: name,
        secretId,
        reason: signal.aborted ? 'ABORTED' : 'UNAVAILABLE',
        cause,
      });
    }
    if (!res.ok) {
      const retryable = res.status === 429 || res.status >= 500;
      const reason =
        res.status === 404
          ? 'NOT_FOUND'
          : res.status === 401 || res.status === 403
            ? 'ACCESS_DENIED'
            : res.status === 429
              ? 'THROTTLED'
              : retryable
                ? 'UNAVAILABLE'
                : 'INVALID_CONFIG';
      throw new KeyStoreError(`${name}: HTTP ${res.status}`, { retryable, store: name, secretId, reason, code: `HTTP_${res.status}` });
    }
    return (await res.json()) as T;
  }

  return {
    name,
    async getVersions(secretId, { signal }) {
      const meta = (await get<{ data: Metadata }>(secretId, `/v1/secret/metadata/${encodeURIComponent(secretId)}`, signal)).data;
      const current = meta.current_version;
      const live = (n: number) =>
        meta.versions[String(n)] !== undefined && !meta.versions[String(n)]!.destroyed && meta.versions[String(n)]!.deletion_time === '';
      const out: SecretVersion[] = [];
      for (const [n, role] of [
        [current, 'active'],
        [current - 1, 'previous'],
      ] as const) {
        if (n < 1 || !live(n)) continue;
        const id = `${secretId}#${n}`;
        let secret = values.get(id);
        if (secret === undefined) {
          const data = await get<{ data: { data: { secret: string } } }>(
            secretId,
            `/v1/secret/data/${encodeURIComponent(secretId)}?version=${n}`,
            signal,
          );
          secret = data.data.data.secret;
          values.set(id, secret);
        }
        const notAfter = role === 'previous' ? Date.parse(meta.versions[String(current)]!.created_time) + grace : undefined;
        out.push({ id, secret, role, notAfter });
      }
      return out;
    },
  };
}
