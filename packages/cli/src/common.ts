/**
 * Shared CLI plumbing: I/O, exit codes, flags for secrets and stores, tables and progress.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KeyStoreError, VERIFICATION_ERROR_CODES, type KeyStore, type VerificationErrorCode } from '@keyturn/core';
import type { RetiringKeyStore, RotationErrorCode } from '@keyturn/rotation';
import { envFileKeyStore } from '@keyturn/store-env';

/** Where a command reads and writes. Tests pass their own. */
export interface CliIo {
  /** Standard output (results). */
  stdout: (text: string) => void;
  /** Standard error (progress, errors). */
  stderr: (text: string) => void;
  /** Reads all of standard input. */
  readStdin: () => Promise<Uint8Array>;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** Working directory. */
  cwd: string;
  /** Clock, epoch ms. */
  now: () => number;
  /** Fetch for network calls. */
  fetch?: typeof fetch;
}

/** The `keyturn` exit codes (the table in docs/rotation.md, "Exit codes"). */
export interface ExitCodes {
  /** Success (`status --check`: safe to retire). */
  readonly OK: 0;
  /** Unexpected error. */
  readonly ERROR: 1;
  /** Usage error: bad or missing flags. */
  readonly USAGE: 2;
  /** Not safe to retire (`status --check`, `keys retire` refused). */
  readonly NOT_SAFE: 3;
  /** 10 + index in `VERIFICATION_ERROR_CODES` (10 … 24); see {@link verificationExitCode}. */
  readonly VERIFICATION_BASE: 10;
  /** The store write failed after the provider rotated: the recovery file is kept and its command printed. */
  readonly STORE_WRITE_FAILED: 30;
  /** The provider's rotate call failed before the provider acted: nothing changed. */
  readonly PROVIDER_ROTATE_FAILED: 31;
  /** Store error: cannot read, not found, access denied, … */
  readonly STORE_ERROR: 32;
  /** The store cannot do that (a custom store without `rotate()` / `retirePrevious()`). */
  readonly STORE_UNSUPPORTED: 33;
  /**
   * The provider's answer was lost after the request reached it: it may sign with a secret the store
   * does not hold. The message says what to do (rotate again).
   */
  readonly PROVIDER_MAY_HAVE_ROTATED: 34;
  /** `--usage-url`: the instance could not be reached (connection refused, DNS, timeout). */
  readonly USAGE_UNREACHABLE: 35;
  /** `--usage-url`: the instance refused the request (HTTP 401 / 403): credentials missing or wrong. */
  readonly USAGE_UNAUTHORIZED: 36;
  /** `--usage-url`: any other HTTP error or a redirect. */
  readonly USAGE_HTTP_ERROR: 37;
  /** `--usage` / `--usage-url`: the answer is not JSON or not a keyturn usage snapshot. */
  readonly USAGE_INVALID: 38;
}

/** Exit codes, documented in the CLI README and in docs/rotation.md. */
export const EXIT: ExitCodes = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  NOT_SAFE: 3,
  VERIFICATION_BASE: 10,
  STORE_WRITE_FAILED: 30,
  PROVIDER_ROTATE_FAILED: 31,
  STORE_ERROR: 32,
  STORE_UNSUPPORTED: 33,
  PROVIDER_MAY_HAVE_ROTATED: 34,
  USAGE_UNREACHABLE: 35,
  USAGE_UNAUTHORIZED: 36,
  USAGE_HTTP_ERROR: 37,
  USAGE_INVALID: 38,
};

/** Exit code of a verification error code (10 … 24). */
export function verificationExitCode(code: VerificationErrorCode): number {
  return EXIT.VERIFICATION_BASE + VERIFICATION_ERROR_CODES.indexOf(code);
}

/** Exit code of a rotation error code. */
export function rotationExitCode(code: RotationErrorCode): number {
  switch (code) {
    case 'STORE_WRITE_FAILED':
      return EXIT.STORE_WRITE_FAILED;
    case 'PROVIDER_ROTATE_FAILED':
      return EXIT.PROVIDER_ROTATE_FAILED;
    case 'PROVIDER_MAY_HAVE_ROTATED':
      return EXIT.PROVIDER_MAY_HAVE_ROTATED;
    case 'STORE_READ_FAILED':
      return EXIT.STORE_ERROR;
    case 'STORE_NOT_WRITABLE':
    case 'STORE_CANNOT_RETIRE':
      return EXIT.STORE_UNSUPPORTED;
    case 'NOT_SAFE_TO_RETIRE':
      return EXIT.NOT_SAFE;
  }
}

/** A failure with its own exit code, printed as one `error:` line (no usage text). */
export class CliError extends Error {
  /** The exit code (see {@link EXIT}). */
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * The env-file flag. Not `--env-file`: Node itself looks for `--env-file` among **all** of a
 * script's arguments (up to a `--`), so `keyturn … --env-file app.env` makes Node read the file
 * before keyturn starts — it exits 9 ("not found") when the file is missing and applies a
 * `NODE_OPTIONS` line found in it. See the CLI README.
 */
export const STORE_FILE_FLAG = 'store-file';

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `24h`, `15m`, `90s`, `2d`, `500ms` or plain milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h|d)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`${flag}: "${text}" is not a duration (examples: 90s, 15m, 24h, 2d, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[unit] as number;
  return Math.round(n * factor);
}

/** Reads a secret from `--X-env NAME` or `--X-file PATH`; never from the command line itself. */
export async function readSecretFlag(
  io: CliIo,
  values: Record<string, unknown>,
  name: string,
  options: { required: boolean; defaultEnv?: string },
): Promise<string | undefined> {
  const envName = values[`${name}-env`] as string | undefined;
  const filePath = values[`${name}-file`] as string | undefined;
  if (envName !== undefined && filePath !== undefined) throw new UsageError(`pass --${name}-env or --${name}-file, not both`);
  if (filePath !== undefined) {
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, filePath), 'utf8');
    } catch (err) {
      throw new UsageError(`--${name}-file: cannot read ${filePath} (${(err as { code?: string }).code ?? 'error'})`);
    }
    // One final newline (`echo secret > file`) is not part of the secret; any other whitespace around
    // it is refused, as the env stores do (@keyturn/store-env: `*_FILE` secrets).
    text = text.replace(/\r?\n$/, '');
    if (text.length === 0) throw new UsageError(`--${name}-file: ${filePath} is empty`);
    if (/^\s|\s$/.test(text)) {
      throw new UsageError(`--${name}-file: ${filePath} has whitespace around the secret besides one final newline; keyturn never trims secrets`);
    }
    return text;
  }
  const variable = envName ?? options.defaultEnv;
  if (variable !== undefined) {
    const value = io.env[variable];
    if (value !== undefined && value.length > 0) return value;
    if (envName !== undefined || options.required) {
      throw new UsageError(`the environment variable ${variable} is not set (or pass --${name}-file PATH)`);
    }
  }
  if (options.required) throw new UsageError(`pass --${name}-env NAME or --${name}-file PATH (secrets are never taken from the command line)`);
  return undefined;
}

/** Flags shared by every command that opens a store. */
export const STORE_FLAGS = {
  store: { type: 'string' },
  [STORE_FILE_FLAG]: { type: 'string' },
  'aws-region': { type: 'string' },
  'aws-endpoint': { type: 'string' },
  'gcp-project': { type: 'string' },
  'gcp-endpoint': { type: 'string' },
} as const;

/** Help text for the store flags. */
export const STORE_HELP = `Store:
  --store env-file|aws|gcp   Which store holds the secret (env-file is implied by --store-file)
  --store-file PATH          The .env-style file (env-file store; not --env-file, which Node takes)
  --aws-region REGION        AWS region (aws store; default: the SDK's)
  --aws-endpoint URL         Secrets Manager endpoint (aws store; for tests and VPC endpoints)
  --gcp-project ID           Project of bare secret names (gcp store)
  --gcp-endpoint HOST:PORT   Secret Manager endpoint (gcp store; for tests)
  --secret-id ID             The secret (env-file: variable name; aws: name or ARN; gcp: name)`;

/** An opened store and how to name it again on a command line. */
export interface OpenedStore {
  store: KeyStore;
  /** The flags that open the same store, for printed follow-up commands. */
  flags: string;
  close: () => Promise<void>;
}

/** Opens the store named by the flags. */
export async function openStore(io: CliIo, values: Record<string, unknown>): Promise<OpenedStore> {
  const envFile = values[STORE_FILE_FLAG] as string | undefined;
  const kind = (values['store'] as string | undefined) ?? (envFile !== undefined ? 'env-file' : undefined);
  if (kind === undefined) throw new UsageError(`pass --store env-file|aws|gcp (or --${STORE_FILE_FLAG} PATH)`);
  if (kind === 'env-file') {
    if (envFile === undefined) throw new UsageError(`--store env-file needs --${STORE_FILE_FLAG} PATH`);
    const path = resolve(io.cwd, envFile);
    const store = envFileKeyStore({ path, now: io.now, onWarning: (w) => io.stderr(`warning: ${w.message}\n`) });
    return { store, flags: `--${STORE_FILE_FLAG} ${shellQuote(path)}`, close: async () => undefined };
  }
  if (kind === 'aws') return openAws(io, values);
  if (kind === 'gcp') return openGcp(io, values);
  throw new UsageError(`--store: unknown store "${kind}" (env-file, aws or gcp)`);
}

async function importOptional<T>(name: string, hint: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new UsageError(`this store needs ${hint}: npm install ${hint}`);
    }
    throw err;
  }
}

async function openAws(io: CliIo, values: Record<string, unknown>): Promise<OpenedStore> {
  const mod = await importOptional<typeof import('@keyturn/store-aws')>('@keyturn/store-aws', '@keyturn/store-aws @aws-sdk/client-secrets-manager');
  const region = (values['aws-region'] as string | undefined) ?? io.env['AWS_REGION'] ?? io.env['AWS_DEFAULT_REGION'];
  const endpoint = values['aws-endpoint'] as string | undefined;
  const clientConfig: Record<string, unknown> = {};
  if (region !== undefined) clientConfig['region'] = region;
  if (endpoint !== undefined) clientConfig['endpoint'] = endpoint;
  // The same environment the command reads (process.env in a real run) supplies static credentials.
  const accessKeyId = io.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = io.env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    clientConfig['credentials'] = { accessKeyId, secretAccessKey, sessionToken: io.env['AWS_SESSION_TOKEN'] };
  }
  const sdk = await importOptional<typeof import('@aws-sdk/client-secrets-manager')>('@aws-sdk/client-secrets-manager', '@aws-sdk/client-secrets-manager');
  const client = new sdk.SecretsManagerClient(clientConfig);
  const inner = mod.awsSecretsManagerStore({ client, now: io.now });
  // Retiring = removing the AWSPREVIOUS label from the previous version (raw format: key id = VersionId).
  const store: RetiringKeyStore = {
    name: inner.name,
    getVersions: (secretId, options) => inner.getVersions(secretId, options),
    rotate: (secretId, secret, options) => inner.rotate(secretId, secret, options),
    async retirePrevious(secretId, options = {}) {
      const previous = await previousOf(inner, secretId, options.keyId);
      if (previous === undefined) return { retiredId: undefined };
      await client.send(
        new sdk.UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: previous }),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      return { retiredId: previous };
    },
  };
  let flags = '--store aws';
  if (region !== undefined) flags += ` --aws-region ${shellQuote(region)}`;
  if (endpoint !== undefined) flags += ` --aws-endpoint ${shellQuote(endpoint)}`;
  return {
    store,
    flags,
    close: async () => {
      inner.dispose();
      client.destroy();
    },
  };
}

async function previousOf(store: KeyStore, secretId: string, keyId: string | undefined): Promise<string | undefined> {
  const versions = await store.getVersions(secretId, { signal: AbortSignal.timeout(30_000) });
  const previous = versions.find((v) => v.role === 'previous');
  if (previous !== undefined && keyId !== undefined && previous.id !== keyId) {
    throw new KeyStoreError(`the previous key of ${secretId} is ${previous.id}, not ${keyId}; nothing was retired`, {
      retryable: false,
      store: store.name,
      secretId,
      reason: 'KEY_CHANGED',
    });
  }
  return previous?.id;
}

async function openGcp(io: CliIo, values: Record<string, unknown>): Promise<OpenedStore> {
  const mod = await importOptional<typeof import('@keyturn/store-gcp')>('@keyturn/store-gcp', '@keyturn/store-gcp @google-cloud/secret-manager');
  const project = (values['gcp-project'] as string | undefined) ?? io.env['GOOGLE_CLOUD_PROJECT'];
  const endpoint = values['gcp-endpoint'] as string | undefined;
  const options: Record<string, unknown> = { now: io.now };
  let clientOptions: Record<string, unknown> = {};
  if (project !== undefined) {
    options['projectId'] = project;
    clientOptions['projectId'] = project;
  }
  if (endpoint !== undefined) {
    const m = /^(.+):(\d+)$/.exec(endpoint);
    if (m === null) throw new UsageError('--gcp-endpoint must be HOST:PORT');
    const [, host, port] = m;
    const grpc = await importOptional<{ credentials: { createInsecure(): unknown } }>('@grpc/grpc-js', '@grpc/grpc-js');
    // A plaintext local endpoint (tests, emulators): no TLS, and a fixed universe so nothing probes the metadata server.
    clientOptions = { apiEndpoint: host, port: Number(port), sslCreds: grpc.credentials.createInsecure(), projectId: project ?? 'test', universeDomain: 'googleapis.com' };
  }
  const sdk = await importOptional<typeof import('@google-cloud/secret-manager')>('@google-cloud/secret-manager', '@google-cloud/secret-manager');
  const client = new sdk.SecretManagerServiceClient(clientOptions as never);
  const inner = mod.gcpSecretManagerStore({ ...options, client: client as never });
  // Retiring = disabling the previous version (key id = the version's resource name).
  const store: RetiringKeyStore = {
    name: inner.name,
    getVersions: (secretId, o) => inner.getVersions(secretId, o),
    rotate: (secretId, secret, o) => inner.rotate!(secretId, secret, o),
    async retirePrevious(secretId, o = {}) {
      const previous = await previousOf(inner, secretId, o.keyId);
      if (previous === undefined) return { retiredId: undefined };
      await client.disableSecretVersion({ name: previous });
      return { retiredId: previous };
    },
  };
  let flags = '--store gcp';
  if (project !== undefined) flags += ` --gcp-project ${shellQuote(project)}`;
  if (endpoint !== undefined) flags += ` --gcp-endpoint ${shellQuote(endpoint)}`;
  return {
    store,
    flags,
    close: async () => {
      await inner.dispose?.();
      await client.close();
    },
  };
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-.:/=@%+,]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Renders rows as an aligned text table. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Formats an epoch-ms instant for tables. */
export function formatTime(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Progress lines on stderr for anything that waits on the network. */
export function progressPrinter(io: CliIo, enabled: boolean): (message: string) => void {
  return (message) => {
    if (enabled) io.stderr(`… ${message}\n`);
  };
}

/** The error code of a failed `fetch` (undici puts it on `cause`, or on an AggregateError's first error). */
export function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && typeof (inner[0] as { code?: unknown } | undefined)?.code === 'string') return (inner[0] as { code: string }).code;
  }
  return undefined;
}

/** A one-line, secret-free description of an unexpected error. */
export function describeError(err: unknown): string {
  if (err instanceof KeyStoreError) return `${err.message}${err.reason ? ` [${err.reason}]` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
