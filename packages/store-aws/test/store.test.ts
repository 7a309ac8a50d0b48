import { inspect } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { awsSecretsManagerStore } from '../src/index.ts';
import type { SecretsManagerServer } from '../src/testing/index.ts';
import { rejection, signal, useSecretsManagerServer, view } from './helpers.ts';

const DAY = 86_400_000;
let server: SecretsManagerServer;
let clock = Date.UTC(2026, 10, 1);
const { fresh, makeStore } = useSecretsManagerServer('store-test', { now: () => clock, started: (s) => (server = s) });

describe('label mapping', () => {
  it('AWSCURRENT → active, AWSPREVIOUS → previous until the current CreatedDate + previousGraceMs', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'amt-old').versionId!;
    clock += 1_000;
    const createdCurrent = clock;
    const v2 = server.putSecretValue(id, 'amt-new');
    const versions = await makeStore({ previousGraceMs: 2 * DAY }).getVersions(id, { signal: signal() });
    expect(view(versions)).toEqual([
      { id: v2, role: 'active', secret: 'amt-new', notBefore: undefined, notAfter: undefined },
      { id: v1, role: 'previous', secret: 'amt-old', notBefore: undefined, notAfter: createdCurrent + 2 * DAY },
    ]);
  });

  it('defaults previousGraceMs to 24 h; Infinity removes the window', async () => {
    const id = fresh();
    server.createSecret(id, 'a');
    const created = clock;
    server.putSecretValue(id, 'b');
    expect((await makeStore().getVersions(id, { signal: signal() }))[1]?.notAfter).toBe(created + DAY);
    expect((await makeStore({ previousGraceMs: Infinity }).getVersions(id, { signal: signal() }))[1]?.notAfter).toBeUndefined();
  });

  it('AWSPENDING is pending only with acceptPending', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'current').versionId!;
    const v2 = server.putSecretValue(id, 'next', { stages: ['AWSPENDING'] });
    expect(view(await makeStore().getVersions(id, { signal: signal() })).map((v) => v.id)).toEqual([v1]);
    const withPending = await makeStore({ acceptPending: true }).getVersions(id, { signal: signal() });
    expect(withPending.map((v) => [v.id, v.role, v.secret])).toEqual([
      [v1, 'active', 'current'],
      [v2, 'pending', 'next'],
    ]);
  });

  it('AWSPENDING on the AWSCURRENT version (a finished rotation) is one active entry', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'one').versionId!;
    const v2 = server.putSecretValue(id, 'two', { stages: ['AWSPENDING'] });
    server.updateSecretVersionStage(id, 'AWSCURRENT', { moveTo: v2, removeFrom: v1 });
    expect(server.stages(id)[v2]).toEqual(['AWSPENDING', 'AWSCURRENT']);
    server.resetCalls();
    const versions = await makeStore({ acceptPending: true }).getVersions(id, { signal: signal() });
    expect(versions.map((v) => [v.id, v.role])).toEqual([
      [v2, 'active'],
      [v1, 'previous'],
    ]);
    expect(server.count('GetSecretValue')).toBe(2);
  });

  it('AWSPENDING on an empty version (failed rotation) is dropped, the rest still loads', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'one').versionId!;
    server.putSecretValue(id, 'two');
    server.beginRotation(id);
    const versions = await makeStore({ acceptPending: true }).getVersions(id, { signal: signal() });
    expect(versions.map((v) => v.role)).toEqual(['active', 'previous']);
    expect(versions[1]?.id).toBe(v1);
  });

  it('a first version alone (no AWSPREVIOUS) is only active; deprecated versions are never used', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'one').versionId!;
    expect((await makeStore().getVersions(id, { signal: signal() })).map((v) => v.id)).toEqual([v1]);
    server.putSecretValue(id, 'two');
    const v3 = server.putSecretValue(id, 'three');
    const versions = await makeStore().getVersions(id, { signal: signal() });
    expect(versions.map((v) => v.secret)).toEqual(['three', 'two']);
    expect(versions.some((v) => v.id === v1)).toBe(false);
    expect(versions[0]?.id).toBe(v3);
  });

  it('uses custom label names', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'aws-current').versionId!;
    const v2 = server.putSecretValue(id, 'webhook-live', { stages: ['WEBHOOK_LIVE'] });
    const v3 = server.putSecretValue(id, 'webhook-old', { stages: ['WEBHOOK_OLD'] });
    const store = makeStore({ labels: { active: 'WEBHOOK_LIVE', previous: 'WEBHOOK_OLD' } });
    const versions = await store.getVersions(id, { signal: signal() });
    expect(versions.map((v) => [v.id, v.role])).toEqual([
      [v2, 'active'],
      [v3, 'previous'],
    ]);
    expect(versions.some((v) => v.id === v1)).toBe(false);
  });

  it('accepts the secret ARN as secretId', async () => {
    const id = fresh();
    const { arn } = server.createSecret(id, 'by-arn');
    expect((await makeStore().getVersions(arn, { signal: signal() }))[0]?.secret).toBe('by-arn');
  });
});

describe('requests and caching', () => {
  it('creating a store never touches the network', async () => {
    server.resetCalls();
    makeStore();
    awsSecretsManagerStore({ clientConfig: { region: 'eu-west-1' } });
    expect(server.count()).toBe(0);
  });

  it('one DescribeSecret per load; each VersionId fetched once, by VersionId, ever', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'one').versionId!;
    const v2 = server.putSecretValue(id, 'two');
    const store = makeStore();
    server.resetCalls();
    for (let i = 0; i < 3; i++) await store.getVersions(id, { signal: signal() });
    expect(server.count('DescribeSecret')).toBe(3);
    expect(server.count('GetSecretValue')).toBe(2);
    const reads = server.calls.filter((c) => c.operation === 'GetSecretValue').map((c) => c.input);
    expect(reads.map((r) => r['VersionId']).sort()).toEqual([v1, v2].sort());
    expect(reads.every((r) => r['VersionStage'] === undefined)).toBe(true);
    // After a rotation only the new version is fetched.
    const v3 = server.putSecretValue(id, 'three');
    server.resetCalls();
    const versions = await store.getVersions(id, { signal: signal() });
    expect(versions.map((v) => v.id)).toEqual([v3, v2]);
    expect(server.calls.map((c) => c.operation)).toEqual(['DescribeSecret', 'GetSecretValue']);
    expect(server.calls[1]?.input['VersionId']).toBe(v3);
  });

  it('the value cache is bounded by maxCachedVersions', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    server.putSecretValue(id, 'two');
    const bounded = makeStore({ maxCachedVersions: 1 });
    const roomy = makeStore();
    await bounded.getVersions(id, { signal: signal() });
    await roomy.getVersions(id, { signal: signal() });
    server.resetCalls();
    await roomy.getVersions(id, { signal: signal() });
    expect(server.count('GetSecretValue')).toBe(0);
    // Two versions, room for one: each load re-fetches exactly the one that was evicted.
    for (let i = 0; i < 2; i++) {
      server.resetCalls();
      expect((await bounded.getVersions(id, { signal: signal() })).map((v) => v.secret)).toEqual(['two', 'one']);
      expect(server.count('GetSecretValue')).toBe(1);
    }
  });

  it('a store-built client retries throttling once by default (maxAttempts 2)', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    const store = makeStore({ clientConfig: { ...server.clientConfig(), maxAttempts: undefined } });
    server.resetCalls();
    server.inject({ kind: 'throttle' }, { operation: 'DescribeSecret' });
    expect((await store.getVersions(id, { signal: signal() }))[0]?.secret).toBe('one');
    expect(server.count('DescribeSecret')).toBe(2);
    server.inject({ kind: 'throttle' }, { operation: 'DescribeSecret', times: 2 });
    const err = await rejection(store.getVersions(id, { signal: signal() }));
    expect([err.retryable, err.reason, err.code]).toEqual([true, 'THROTTLED', 'ThrottlingException']);
  });

  it('latency below the limits is only latency: the load succeeds', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    server.inject({ kind: 'latency', ms: 50 }, { times: 3 });
    const versions = await makeStore({ clientConfig: { ...server.clientConfig(), requestHandler: { requestTimeout: 1_000 } } }).getVersions(
      id,
      { signal: signal() },
    );
    expect(versions.map((v) => v.secret)).toEqual(['one']);
  });

  it("a slow answer past the client's requestTimeout is a retryable failure", async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    server.inject({ kind: 'latency', ms: 500 }, { operation: 'DescribeSecret' });
    const started = performance.now();
    const err = await rejection(
      makeStore({
        clientConfig: { ...server.clientConfig(), requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } },
      }).getVersions(id, { signal: signal() }),
    );
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(450);
  });

  it('bounds every call of an injected client with callTimeoutMs', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    const client = new SecretsManagerClient(server.clientConfig());
    server.inject({ kind: 'hang' });
    const err = await rejection(awsSecretsManagerStore({ client, callTimeoutMs: 100 }).getVersions(id, { signal: signal() }));
    expect([err.retryable, err.reason]).toEqual([true, 'TIMEOUT']);
    client.destroy();
  });

  it('passes the verifier signal down: an abort ends a hung call at once', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    server.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = rejection(makeStore().getVersions(id, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('load timeout')), 20);
    const err = await pending;
    expect([err.retryable, err.reason]).toEqual([true, 'ABORTED']);
  });
});

describe('errors', () => {
  const cases: [string, Parameters<SecretsManagerServer['inject']>[0], boolean, string, string][] = [
    ['DecryptionFailure', { kind: 'error', type: 'DecryptionFailure' }, false, 'ACCESS_DENIED', 'DecryptionFailure'],
    [
      'AccessDeniedException',
      { kind: 'error', type: 'AccessDeniedException', message: 'User is not authorized' },
      false,
      'ACCESS_DENIED',
      'AccessDeniedException',
    ],
    [
      'prefixed __type',
      { kind: 'error', type: 'com.amazonaws.secretsmanager#ResourceNotFoundException' },
      false,
      'NOT_FOUND',
      'ResourceNotFoundException',
    ],
    ['ThrottlingException', { kind: 'throttle' }, true, 'THROTTLED', 'ThrottlingException'],
    ['HTTP 500 InternalServiceError', { kind: 'internal' }, true, 'UNAVAILABLE', 'InternalServiceError'],
    ['HTTP 503 HTML page', { kind: 'unavailable' }, true, 'UNAVAILABLE', 'SyntaxError'],
    ['dropped connection', { kind: 'drop' }, true, 'UNAVAILABLE', 'ECONNRESET'],
  ];
  for (const [title, fault, retryable, reason, code] of cases) {
    it(`${title} → ${retryable ? 'retryable' : 'terminal'} KeyStoreError (${reason}, ${code})`, async () => {
      const id = fresh();
      server.createSecret(id, `secret-value-${title}`);
      server.inject(fault, { operation: 'GetSecretValue' });
      const err = await rejection(makeStore().getVersions(id, { signal: signal() }));
      expect({ retryable: err.retryable, reason: err.reason, code: err.code, store: err.store, secretId: err.secretId }).toEqual({
        retryable,
        reason,
        code,
        store: 'aws-secrets-manager',
        secretId: id,
      });
      expect(inspect(err, { depth: 5 }) + JSON.stringify(err)).not.toContain(`secret-value-${title}`);
    });
  }

  it('ResourceNotFoundException for the secret is terminal', async () => {
    const err = await rejection(makeStore().getVersions('store-test/missing', { signal: signal() }));
    expect([err.retryable, err.reason, err.code]).toEqual([false, 'NOT_FOUND', 'ResourceNotFoundException']);
  });

  it('a secret scheduled for deletion is terminal, found through DescribeSecret', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    server.deleteSecret(id);
    const err = await rejection(makeStore().getVersions(id, { signal: signal() }));
    expect([err.retryable, err.reason, err.code]).toEqual([false, 'NOT_FOUND', 'SecretScheduledForDeletion']);
  });

  it('a secret with no value (no AWSCURRENT) is terminal, not an empty key set', async () => {
    const id = fresh();
    server.createSecret(id);
    const err = await rejection(makeStore().getVersions(id, { signal: signal() }));
    expect([err.retryable, err.reason, err.code]).toEqual([false, 'NOT_FOUND', 'NO_CURRENT_VERSION']);
  });

  it('a malformed success body never reaches the error (the SDK quotes it, and it may hold a secret)', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    for (const body of ['sk-plain-body-secret', '{"SecretString":"sk-truncated-secret']) {
      server.inject({ kind: 'raw', status: 200, body }, { operation: 'GetSecretValue' });
      const err = await rejection(makeStore().getVersions(id, { signal: signal() }));
      expect([err.retryable, err.reason, err.code]).toEqual([true, 'UNAVAILABLE', 'SyntaxError']);
      const cause = err.cause as Error & { $response?: unknown };
      expect(cause.$response).toBeUndefined();
      const text = [err.message, err.stack, inspect(err, { depth: 10, showHidden: true }), JSON.stringify(err), cause.message].join('\n');
      expect(text).not.toContain('sk-plain-body-secret');
      expect(text).not.toContain('sk-truncated-secret');
    }
  });

  it('rejects bad options with a TypeError', () => {
    expect(() => awsSecretsManagerStore({ previousGraceMs: -1 })).toThrow(TypeError);
    expect(() => awsSecretsManagerStore({ format: { jsonField: '' } })).toThrow(TypeError);
    expect(() => awsSecretsManagerStore({ labels: { active: 'X', previous: 'X' } })).toThrow(TypeError);
    expect(() => awsSecretsManagerStore({ callTimeoutMs: 0 })).toThrow(TypeError);
    expect(() => awsSecretsManagerStore({ client: {} as SecretsManagerClient })).toThrow(TypeError);
  });
});

describe('returned values', () => {
  it('bytes are copies: writing into a returned secret does not change the cached value', async () => {
    const id = fresh();
    server.createSecret(id, new Uint8Array([1, 2, 3]));
    const store = makeStore();
    const first = await store.getVersions(id, { signal: signal() });
    (first[0]?.secret as Uint8Array)[0] = 99;
    server.resetCalls();
    const second = await store.getVersions(id, { signal: signal() });
    expect(server.count('GetSecretValue')).toBe(0);
    expect(second[0]?.secret).toEqual(new Uint8Array([1, 2, 3]));
  });
});
