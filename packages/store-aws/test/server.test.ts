import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  CreateSecretCommand,
  UpdateSecretVersionStageCommand,
  paginateListSecretVersionIds,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretsManagerServer, type SecretsManagerServer } from '../src/testing/index.ts';

// The SDK's own version, resolved like its code (scripts/peer-ends.mjs may point it at another install).
const sdkSpecifier = '@aws-sdk/client-secrets-manager/package.json';
const sdkVersion = ((await import(sdkSpecifier, { with: { type: 'json' } })) as { default: { version: string } }).default.version;
const sdkAtLeast = (major: number, minor: number) => {
  const [ma = 0, mi = 0] = sdkVersion.split('.').map(Number);
  return ma > major || (ma === major && mi >= minor);
};

let server: SecretsManagerServer;
let client: SecretsManagerClient;
let clock = Date.UTC(2026, 10, 1);
let n = 0;
const fresh = () => `server-test/${++n}`;

beforeAll(async () => {
  server = await startSecretsManagerServer({ now: () => clock });
  client = new SecretsManagerClient(server.clientConfig());
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error & { $metadata: { httpStatusCode?: number } },
  );

describe('wire protocol', () => {
  it('receives awsJson1_1 from the real client: x-amz-target and the JSON 1.1 content type', async () => {
    const id = fresh();
    server.createSecret(id, 'v1');
    server.resetCalls();
    await client.send(new GetSecretValueCommand({ SecretId: id }));
    const call = server.calls.at(-1)!;
    // If the SDK ever switches Secrets Manager to another protocol (e.g. rpcv2Cbor), this fails loudly.
    expect(call.target).toBe('secretsmanager.GetSecretValue');
    expect(call.contentType).toMatch(/^application\/x-amz-json-1\.1/);
    expect(call.input).toEqual({ SecretId: id });
  });

  it('round-trips SecretBinary as base64 and dates as epoch seconds', async () => {
    const id = fresh();
    const bytes = new Uint8Array([0, 255, 1, 254, 128]);
    clock = Date.UTC(2026, 10, 2, 3, 4, 5, 678);
    server.createSecret(id, bytes);
    const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
    expect(out.SecretBinary).toEqual(bytes);
    expect(out.SecretString).toBeUndefined();
    expect(out.CreatedDate?.getTime()).toBe(clock);
    // The real client sends SecretBinary as base64 too.
    await client.send(new PutSecretValueCommand({ SecretId: id, SecretBinary: new Uint8Array([9, 8, 7]) }));
    expect(server.calls.at(-1)!.input['SecretBinary']).toBe('CQgH');
  });

  it('answers errors as HTTP 400 with __type, which the client maps to its exception classes', async () => {
    const err = await errorOf(client.send(new GetSecretValueCommand({ SecretId: 'nope' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err?.$metadata.httpStatusCode).toBe(400);
    const bad = await errorOf(client.send(new ListSecretVersionIdsCommand({ SecretId: 'nope', MaxResults: 0 })));
    expect(bad?.name).toMatch(/ResourceNotFoundException|InvalidParameterException/);
  });

  it('rejects requests without x-amz-target', async () => {
    const res = await fetch(server.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe('UnknownOperationException');
  });
});

describe('label rules', () => {
  it('moving AWSCURRENT moves AWSPREVIOUS onto the version it left; unlabelled versions are deprecated', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'one').versionId!;
    const v2 = (await client.send(new PutSecretValueCommand({ SecretId: id, SecretString: 'two' }))).VersionId!;
    expect(server.stages(id)).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    const v3 = (await client.send(new PutSecretValueCommand({ SecretId: id, SecretString: 'three' }))).VersionId!;
    const described = await client.send(new DescribeSecretCommand({ SecretId: id }));
    expect(described.VersionIdsToStages).toEqual({ [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT'] }); // v1 deprecated
    // A deprecated version is still readable by id.
    expect((await client.send(new GetSecretValueCommand({ SecretId: id, VersionId: v1 }))).SecretString).toBe('one');
  });

  it('follows the rotation Lambda: AWSPENDING put, then finishSecret moves AWSCURRENT with RemoveFromVersionId', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'one').versionId!;
    const token = '11111111-2222-3333-4444-555555555555';
    await client.send(
      new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'two', VersionStages: ['AWSPENDING'] }),
    );
    expect(server.stages(id)).toEqual({ [v1]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    // Without RemoveFromVersionId the service refuses to take a label off another version.
    const refused = await errorOf(
      client.send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', MoveToVersionId: token })),
    );
    expect(refused).toBeInstanceOf(InvalidParameterException);
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: v1 }),
    );
    expect(server.stages(id)).toEqual({ [v1]: ['AWSPREVIOUS'], [token]: ['AWSPENDING', 'AWSCURRENT'] });
    // AWSCURRENT can only be moved, never removed.
    const removal = await errorOf(
      client.send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', RemoveFromVersionId: token })),
    );
    expect(removal).toBeInstanceOf(InvalidParameterException);
    // Rolling back moves AWSPREVIOUS too.
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: token }),
    );
    expect(server.stages(id)).toEqual({ [v1]: ['AWSCURRENT'], [token]: ['AWSPENDING', 'AWSPREVIOUS'] });
  });

  it('a failed rotation leaves AWSPENDING on an empty version that reads as not found', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    const pending = server.beginRotation(id);
    expect(server.stages(id)[pending]).toEqual(['AWSPENDING']);
    const err = await errorOf(client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPENDING' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    // The Lambda's createSecret step fills that version with the same token.
    await client.send(
      new PutSecretValueCommand({ SecretId: id, ClientRequestToken: pending, SecretString: 'two', VersionStages: ['AWSPENDING'] }),
    );
    expect((await client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPENDING' }))).SecretString).toBe('two');
  });

  it('a repeated PutSecretValue (same token, same value) is ignored, labels included, as AWS documents: after a rollback AWSCURRENT stays put', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'one').versionId!;
    const token = 'abababab-bbbb-cccc-dddd-eeeeeeeeeeee';
    await client.send(new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'two' }));
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: token }),
    );
    const again = await client.send(new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'two' }));
    expect(again.VersionId).toBe(token);
    expect(again.VersionStages).toEqual(['AWSPREVIOUS']);
    expect(server.stages(id)).toEqual({ [v1]: ['AWSCURRENT'], [token]: ['AWSPREVIOUS'] });
    const labelled = await client.send(
      new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'two', VersionStages: ['AWSCURRENT'] }),
    );
    expect(labelled.VersionStages).toEqual(['AWSPREVIOUS']);
    expect(server.stages(id)[v1]).toEqual(['AWSCURRENT']);
  });

  it('PutSecretValue is idempotent per ClientRequestToken: same value = same version, other value = ResourceExistsException', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    const token = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    const a = await client.send(new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'two' }));
    const b = await client.send(new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'two' }));
    expect(b.VersionId).toBe(a.VersionId);
    expect(Object.keys(server.stages(id))).toHaveLength(2);
    const clash = await errorOf(client.send(new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'three' })));
    expect(clash).toBeInstanceOf(ResourceExistsException);
  });

  it('CreateSecret refuses a duplicate name', async () => {
    const id = fresh();
    await client.send(new CreateSecretCommand({ Name: id, SecretString: 'x' }));
    expect(await errorOf(client.send(new CreateSecretCommand({ Name: id, SecretString: 'x' })))).toBeInstanceOf(ResourceExistsException);
  });
});

describe('ListSecretVersionIds', () => {
  it('paginates with NextToken/MaxResults and hides deprecated versions unless IncludeDeprecated', async () => {
    const id = fresh();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      clock += 1000;
      ids.push(i === 0 ? server.createSecret(id, `v${i}`).versionId! : server.putSecretValue(id, `v${i}`));
    }
    const collect = async (includeDeprecated: boolean) => {
      const out: string[] = [];
      for await (const page of paginateListSecretVersionIds(
        { client, pageSize: 2 },
        { SecretId: id, IncludeDeprecated: includeDeprecated },
      )) {
        expect(page.Versions!.length).toBeLessThanOrEqual(2);
        out.push(...page.Versions!.map((v) => v.VersionId!));
      }
      return out;
    };
    expect(await collect(true)).toEqual([...ids].reverse());
    expect(await collect(false)).toEqual([ids[6], ids[5]]);
    const bad = await errorOf(client.send(new ListSecretVersionIdsCommand({ SecretId: id, NextToken: 'garbage' })));
    expect(bad).toBeInstanceOf(InvalidNextTokenException);
  });
});

describe('deletion', () => {
  it('a secret scheduled for deletion shows DeletedDate and refuses reads until restored', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    await client.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: id }));
    expect(described.DeletedDate?.getTime()).toBe(clock);
    expect(await errorOf(client.send(new GetSecretValueCommand({ SecretId: id })))).toBeInstanceOf(InvalidRequestException);
    await client.send(new RestoreSecretCommand({ SecretId: id }));
    expect((await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe('one');
    await client.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    expect(await errorOf(client.send(new DescribeSecretCommand({ SecretId: id })))).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('faults', () => {
  it('the real client retries an injected ThrottlingException and a 500 with its default strategy', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    const retrying = new SecretsManagerClient(server.clientConfig({ maxAttempts: 3 }));
    server.resetCalls();
    server.inject({ kind: 'throttle' }, { operation: 'GetSecretValue' });
    server.inject({ kind: 'internal' }, { operation: 'GetSecretValue' });
    const out = await retrying.send(new GetSecretValueCommand({ SecretId: id }));
    expect(out.SecretString).toBe('one');
    expect(out.$metadata.attempts).toBe(3);
    expect(server.count('GetSecretValue')).toBe(3);
    retrying.destroy();
  });

  it('injects service errors, dropped connections and 503 pages', async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    server.inject({ kind: 'error', type: 'DecryptionFailure', message: 'KMS says no' });
    expect((await errorOf(client.send(new GetSecretValueCommand({ SecretId: id }))))?.name).toBe('DecryptionFailure');
    server.inject({ kind: 'drop' });
    expect((await errorOf(client.send(new GetSecretValueCommand({ SecretId: id })))) as unknown).toMatchObject({ code: 'ECONNRESET' });
    server.inject({ kind: 'unavailable' });
    const unavailable = await errorOf(client.send(new GetSecretValueCommand({ SecretId: id })));
    // The SDK puts the HTTP status on the error for a non-JSON body from 3.723.0 on; older releases in
    // the peer range (scripts/peer-ends.mjs runs the lowest) report only the parse failure.
    if (sdkAtLeast(3, 723)) expect(unavailable?.$metadata.httpStatusCode).toBe(503);
    else expect(unavailable?.name).toBe('SyntaxError');
    expect((await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe('one');
  });
});
