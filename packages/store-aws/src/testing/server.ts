/**
 * An offline AWS Secrets Manager for tests: a `node:http` server on 127.0.0.1 speaking the
 * awsJson1_1 protocol that the real `@aws-sdk/client-secrets-manager` talks, with fault injection.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { AwsServiceError, SecretsManagerModel, type ModelSecret, type ModelValue, type ModelVersion } from './model.ts';

/** Options of {@link startSecretsManagerServer}. */
export interface SecretsManagerServerOptions {
  /** Region reported in ARNs and in {@link SecretsManagerServer.clientConfig}. @default 'us-east-1' */
  region?: string;
  /** Account id used in ARNs. @default '123456789012' */
  accountId?: string;
  /** Clock for `CreatedDate`, `DeletedDate` and friends, epoch ms. @default Date.now */
  now?: () => number;
  /** Port to listen on (127.0.0.1 only). @default 0 (any free port) */
  port?: number;
}

/** One request the server received. */
export interface RecordedCall {
  /** Operation name from `x-amz-target`, e.g. `GetSecretValue`. */
  readonly operation: string;
  /** The raw `x-amz-target` header. */
  readonly target: string | undefined;
  /** The `content-type` header. */
  readonly contentType: string | undefined;
  /** The parsed JSON input (test data only; may hold test secrets). */
  readonly input: Record<string, unknown>;
}

/** A fault the server applies to the next matching requests. */
export type Fault = SimpleFault | LatencyFault | RawFault | ErrorFault;

/** A fault with no parameters. */
export interface SimpleFault {
  /**
   * - `throttle`: answer `ThrottlingException` (HTTP 400), as the service does when a rate limit is hit.
   * - `internal`: answer HTTP 500 `InternalServiceError`.
   * - `unavailable`: answer HTTP 503 with a non-JSON body, as a load balancer would.
   * - `hang`: never answer; the request stays open until the client gives up.
   * - `drop`: destroy the connection without an answer.
   * - `dropResponse`: carry the request out, then destroy the connection before answering (a lost response).
   */
  readonly kind: 'throttle' | 'internal' | 'unavailable' | 'hang' | 'drop' | 'dropResponse';
}

/** Wait `ms` before handling the request normally. */
export interface LatencyFault {
  /** Fault kind. */
  readonly kind: 'latency';
  /** Delay before the request is handled, in ms. */
  readonly ms: number;
}

/** Answer exactly this status and body (a truncated or malformed response). */
export interface RawFault {
  /** Fault kind. */
  readonly kind: 'raw';
  /** HTTP status. */
  readonly status: number;
  /** Response body, sent as is. */
  readonly body: string;
  /** `content-type` header. @default 'application/x-amz-json-1.1' */
  readonly contentType?: string;
}

/** Answer a service error: `DecryptionFailure`, `AccessDeniedException`, ... */
export interface ErrorFault {
  /** Fault kind. */
  readonly kind: 'error';
  /** The error's `__type`, e.g. `DecryptionFailure`. */
  readonly type: string;
  /** The error's message. @default `Injected <type>` */
  readonly message?: string;
  /** HTTP status. @default 400 */
  readonly status?: number;
}

/** Static test credentials in {@link TestClientConfig} (the server does not check signatures). */
export interface TestCredentials {
  /** A fake access key id. */
  accessKeyId: string;
  /** A fake secret access key. */
  secretAccessKey: string;
}

/** What {@link SecretsManagerServer.clientConfig} returns: `SecretsManagerClient` settings pointing at the server. */
export interface TestClientConfig {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** The server's region. */
  region: string;
  /** Fake static credentials. */
  credentials: TestCredentials;
  /** SDK attempts per call. @default 1 */
  maxAttempts: number;
  /** Any overrides passed in. */
  [key: string]: unknown;
}

/** What {@link SecretsManagerServer.createSecret} returns. */
export interface CreatedSecret {
  /** The secret's full ARN. */
  arn: string;
  /** Id of the first version, or `undefined` when created without a value. */
  versionId: string | undefined;
}

/** Where and how often a fault applies. */
export interface FaultScope {
  /** Only requests for this operation (e.g. `GetSecretValue`). @default every operation */
  operation?: string;
  /** How many matching requests it affects. @default 1 */
  times?: number;
}

/** A running offline Secrets Manager. */
export interface SecretsManagerServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The region it pretends to be. */
  readonly region: string;
  /** The model behind it, for direct inspection. */
  readonly model: SecretsManagerModel;
  /** Every request received, in order. */
  readonly calls: readonly RecordedCall[];
  /**
   * Client settings that point the real SDK client here (endpoint, region, fake static credentials,
   * one attempt unless overridden).
   *
   * @example
   * ```ts
   * const client = new SecretsManagerClient(server.clientConfig());
   * ```
   */
  clientConfig(overrides?: Record<string, unknown>): TestClientConfig;
  /** Creates a secret; with a value its first version is `AWSCURRENT`. Returns the ARN and version id. */
  createSecret(name: string, value?: string | Uint8Array, options?: { versionId?: string }): CreatedSecret;
  /**
   * Adds a version (PutSecretValue semantics): labels in `stages` (default `['AWSCURRENT']`) move to it.
   * Returns the version id.
   */
  putSecretValue(secretId: string, value: string | Uint8Array, options?: { versionId?: string; stages?: string[] }): string;
  /** UpdateSecretVersionStage semantics. */
  updateSecretVersionStage(secretId: string, stage: string, options: { moveTo?: string; removeFrom?: string }): void;
  /** What RotateSecret does first: an empty version labelled `AWSPENDING` (a failed rotation leaves it empty). */
  beginRotation(secretId: string, clientRequestToken?: string): string;
  /** Schedules deletion (or deletes at once with `force`). */
  deleteSecret(secretId: string, options?: { force?: boolean; recoveryWindowInDays?: number }): void;
  /** The label map of a secret: version id → labels (labelled versions only). */
  stages(secretId: string): Record<string, string[]>;
  /** Applies `fault` to the next matching requests. */
  inject(fault: Fault, scope?: FaultScope): void;
  /** Drops every pending fault. */
  clearFaults(): void;
  /** How many requests of `operation` were received (all operations when omitted). */
  count(operation?: string): number;
  /** Forgets recorded calls. */
  resetCalls(): void;
  /** Stops the server, closing open connections. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';

interface ActiveFault {
  fault: Fault;
  operation: string | undefined;
  remaining: number;
}

/**
 * Starts an offline Secrets Manager on 127.0.0.1 for tests. It implements `GetSecretValue`,
 * `DescribeSecret`, `ListSecretVersionIds` (pagination, `IncludeDeprecated`), `PutSecretValue`
 * (`ClientRequestToken` idempotency), `UpdateSecretVersionStage`, `CreateSecret`, `DeleteSecret`,
 * `RestoreSecret`, `TagResource` and `UntagResource` (tags show in `DescribeSecret`), with the service's label rules, and can inject throttling, 5xx, latency,
 * hangs, dropped connections and service errors.
 *
 * @example Point the real client (or a keyturn store) at it
 * ```ts
 * import { startSecretsManagerServer } from '@keyturn/store-aws/testing';
 * import { awsSecretsManagerStore } from '@keyturn/store-aws';
 *
 * const server = await startSecretsManagerServer();
 * server.createSecret('webhooks/smartcar', 'amt-old');
 * server.putSecretValue('webhooks/smartcar', 'amt-new');
 * const store = awsSecretsManagerStore({ clientConfig: server.clientConfig() });
 * // ... and in afterAll: await server.close();
 * ```
 */
export async function startSecretsManagerServer(options: SecretsManagerServerOptions = {}): Promise<SecretsManagerServer> {
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? Date.now;
  const model = new SecretsManagerModel(region, options.accountId ?? '123456789012', now);
  const calls: RecordedCall[] = [];
  let faults: ActiveFault[] = [];
  const sockets = new Set<Socket>();

  const takeFault = (operation: string): Fault | undefined => {
    const f = faults.find((x) => x.operation === undefined || x.operation === operation);
    if (f === undefined) return undefined;
    f.remaining--;
    if (f.remaining <= 0) faults = faults.filter((x) => x !== f);
    return f.fault;
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = header(req, 'x-amz-target');
    const operation = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    let input: Record<string, unknown> = {};
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      input = text.length === 0 ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      return send(res, 400, { __type: 'SerializationException', message: 'The request body is not valid JSON.' });
    }
    calls.push({ operation, target, contentType: header(req, 'content-type'), input });

    const fault = takeFault(operation);
    if (fault !== undefined) {
      switch (fault.kind) {
        case 'throttle':
          return send(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
        case 'internal':
          return send(res, 500, { __type: 'InternalServiceError', message: 'An error occurred on the server side.' });
        case 'unavailable':
          res.writeHead(503, { 'content-type': 'text/html' });
          res.end('<html><body>Service Unavailable</body></html>');
          return;
        case 'raw':
          res.writeHead(fault.status, { 'content-type': fault.contentType ?? JSON_TYPE });
          res.end(fault.body);
          return;
        case 'hang':
          return; // left open; closed by the client or by close()
        case 'drop':
          req.socket.destroy();
          return;
        case 'error':
          return send(res, fault.status ?? 400, { __type: fault.type, message: fault.message ?? `Injected ${fault.type}` });
        case 'latency':
          await new Promise((r) => setTimeout(r, fault.ms));
          if (req.socket.destroyed) return;
          break;
        case 'dropResponse':
          try {
            dispatch(operation, input);
          } catch {
            // the client never learns the outcome either way
          }
          req.socket.destroy();
          return;
      }
    }

    if (operation === '') {
      return send(res, 400, { __type: 'UnknownOperationException', message: 'Missing or unknown x-amz-target header.' });
    }
    if (!header(req, 'content-type')?.startsWith(JSON_TYPE)) {
      return send(res, 400, { __type: 'SerializationException', message: `Expected content-type ${JSON_TYPE}.` });
    }
    try {
      send(res, 200, dispatch(operation, input));
    } catch (err) {
      if (err instanceof AwsServiceError) return send(res, err.status, { __type: err.type, message: err.message });
      return send(res, 500, { __type: 'InternalServiceError', message: 'Unexpected server error.' });
    }
  }

  function dispatch(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (operation) {
      case 'GetSecretValue':
        return getSecretValue(input);
      case 'DescribeSecret':
        return describeSecret(model.find(input['SecretId']));
      case 'ListSecretVersionIds':
        return listSecretVersionIds(input);
      case 'PutSecretValue': {
        const secret = model.live(input['SecretId']);
        const stages = optionalStringArray(input['VersionStages'], 'VersionStages');
        const { version } = model.putValue(
          secret,
          valueFrom(input),
          optionalString(input['ClientRequestToken'], 'ClientRequestToken'),
          stages,
        );
        return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
      }
      case 'UpdateSecretVersionStage': {
        const secret = model.live(input['SecretId']);
        model.updateStage(
          secret,
          input['VersionStage'] as string,
          optionalString(input['MoveToVersionId'], 'MoveToVersionId'),
          optionalString(input['RemoveFromVersionId'], 'RemoveFromVersionId'),
        );
        return { ARN: secret.arn, Name: secret.name };
      }
      case 'TagResource': {
        const secret = model.live(input['SecretId']);
        const tags = input['Tags'];
        if (!Array.isArray(tags) || !tags.every((t) => t !== null && typeof t === 'object')) {
          throw new AwsServiceError('InvalidParameterException', 'Tags must be a list of { Key, Value }.');
        }
        model.tagResource(
          secret,
          (tags as Record<string, unknown>[]).map((t) => ({ key: t['Key'] as string, value: (t['Value'] ?? '') as string })),
        );
        return {};
      }
      case 'UntagResource': {
        const secret = model.live(input['SecretId']);
        model.untagResource(secret, optionalStringArray(input['TagKeys'], 'TagKeys') ?? []);
        return {};
      }
      case 'CreateSecret': {
        const hasValue = input['SecretString'] !== undefined || input['SecretBinary'] !== undefined;
        const { secret, version } = model.createSecret(
          input['Name'] as string,
          hasValue ? valueFrom(input) : undefined,
          optionalString(input['ClientRequestToken'], 'ClientRequestToken'),
        );
        return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
      }
      case 'DeleteSecret': {
        const secret = model.find(input['SecretId']);
        const days = input['RecoveryWindowInDays'];
        const deletionDate = model.deleteSecret(
          secret,
          typeof days === 'number' ? days : undefined,
          input['ForceDeleteWithoutRecovery'] === true,
        );
        return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(deletionDate) };
      }
      case 'RestoreSecret': {
        const secret = model.find(input['SecretId']);
        model.restoreSecret(secret);
        return { ARN: secret.arn, Name: secret.name };
      }
      default:
        throw new AwsServiceError('UnknownOperationException', `Operation ${operation} is not supported by this test server.`);
    }
  }

  function getSecretValue(input: Record<string, unknown>): Record<string, unknown> {
    const secret = model.live(input['SecretId']);
    const versionId = optionalString(input['VersionId'], 'VersionId');
    const stage = optionalString(input['VersionStage'], 'VersionStage');
    let version: ModelVersion | undefined;
    if (versionId !== undefined) {
      version = secret.versions.get(versionId);
      if (version === undefined) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
      if (stage !== undefined && !version.stages.has(stage)) {
        throw new AwsServiceError('InvalidParameterException', `The staging label ${stage} is not attached to version ${versionId}.`);
      }
    } else {
      const label = stage ?? 'AWSCURRENT';
      version = model.holder(secret, label);
      if (version === undefined) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${label}`,
        );
      }
    }
    if (version.secretString === undefined && version.secretBinary === undefined) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${version.versionId}`,
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
      ...(version.secretBinary !== undefined ? { SecretBinary: Buffer.from(version.secretBinary).toString('base64') } : {}),
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.createdDate),
    };
  }

  function describeSecret(secret: ModelSecret): Record<string, unknown> {
    const map: Record<string, string[]> = {};
    for (const v of secret.versions.values()) if (v.stages.size > 0) map[v.versionId] = [...v.stages];
    return {
      ARN: secret.arn,
      Name: secret.name,
      RotationEnabled: false,
      CreatedDate: seconds(secret.createdDate),
      LastChangedDate: seconds(secret.lastChangedDate),
      ...(secret.deletedDate !== undefined ? { DeletedDate: seconds(secret.deletedDate) } : {}),
      VersionIdsToStages: map,
      ...(secret.tags.size > 0 ? { Tags: [...secret.tags].map(([Key, Value]) => ({ Key, Value })) } : {}),
    };
  }

  function listSecretVersionIds(input: Record<string, unknown>): Record<string, unknown> {
    const secret = model.find(input['SecretId']);
    const max = input['MaxResults'] ?? 100;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) {
      throw new AwsServiceError('InvalidParameterException', 'MaxResults must be between 1 and 100.');
    }
    const all = [...secret.versions.values()]
      .filter((v) => input['IncludeDeprecated'] === true || v.stages.size > 0)
      .sort((a, b) => b.createdDate - a.createdDate || (a.versionId < b.versionId ? -1 : 1));
    let start = 0;
    const token = input['NextToken'];
    if (token !== undefined) {
      const decoded =
        typeof token === 'string'
          ? Number(
              Buffer.from(token, 'base64url')
                .toString('utf8')
                .replace(/^offset:/, ''),
            )
          : NaN;
      if (!Number.isInteger(decoded) || decoded <= 0 || decoded > all.length) {
        throw new AwsServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
      }
      start = decoded;
    }
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(`offset:${start + max}`).toString('base64url') : undefined;
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.map((v) => ({ VersionId: v.versionId, VersionStages: [...v.stages], CreatedDate: seconds(v.createdDate) })),
      ...(next !== undefined ? { NextToken: next } : {}),
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;

  const toValue = (value: string | Uint8Array): ModelValue =>
    typeof value === 'string' ? { secretString: value } : { secretBinary: value };

  return {
    endpoint,
    region,
    model,
    calls,
    clientConfig: (overrides = {}) => ({
      endpoint,
      region,
      credentials: { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-access-key' },
      maxAttempts: 1,
      ...overrides,
    }),
    createSecret(name, value, opts = {}) {
      const { secret, version } = model.createSecret(name, value === undefined ? undefined : toValue(value), opts.versionId);
      return { arn: secret.arn, versionId: version?.versionId };
    },
    putSecretValue(secretId, value, opts = {}) {
      return model.putValue(model.live(secretId), toValue(value), opts.versionId, opts.stages).version.versionId;
    },
    updateSecretVersionStage(secretId, stage, opts) {
      model.updateStage(model.live(secretId), stage, opts.moveTo, opts.removeFrom);
    },
    beginRotation(secretId, token) {
      return model.beginRotation(model.live(secretId), token ?? randomUUID()).versionId;
    },
    deleteSecret(secretId, opts = {}) {
      model.deleteSecret(model.find(secretId), opts.force ? undefined : opts.recoveryWindowInDays, opts.force === true);
    },
    stages(secretId) {
      return describeSecret(model.find(secretId))['VersionIdsToStages'] as Record<string, string[]>;
    },
    inject(fault, scope = {}) {
      faults.push({ fault, operation: scope.operation, remaining: scope.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    count: (operation) => (operation === undefined ? calls.length : calls.filter((c) => c.operation === operation).length),
    resetCalls() {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function seconds(ms: number): number {
  return ms / 1000;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AwsServiceError('InvalidParameterException', `${field} must be a string.`);
  return v;
}

function optionalStringArray(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new AwsServiceError('InvalidParameterException', `${field} must be a list of strings.`);
  }
  return v as string[];
}

function valueFrom(input: Record<string, unknown>): ModelValue {
  const s = input['SecretString'];
  const b = input['SecretBinary'];
  if (s !== undefined && b !== undefined) {
    throw new AwsServiceError('InvalidParameterException', "You can't specify both SecretString and SecretBinary.");
  }
  if (typeof s === 'string') return { secretString: s };
  if (typeof b === 'string') return { secretBinary: new Uint8Array(Buffer.from(b, 'base64')) };
  throw new AwsServiceError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
}
