/**
 * The store table: every store the CLI opens is one row (name → flags → factory). Commands call
 * {@link openStore} and use the store through core's `KeyStore` contract (`getVersions`, `rotate`,
 * `retirePrevious`) only, so adding a store is adding a row. The store flags and their help come from
 * the same rows.
 *
 * @module
 */
import { resolve } from 'node:path';
import type { KeyStore } from '@keyturn/core';
import { type CliIo, importOptional, shellQuote } from './common.ts';
import { UsageError } from './exit.ts';
import { flagHelp, type FlagTable } from './flags.ts';

/** An opened store and how to name it again on a command line. */
export interface OpenedStore {
  store: KeyStore;
  /** The flags that open the same store, for printed follow-up commands. */
  flags: string;
  close: () => Promise<void>;
}

/** One store the CLI can open. */
export interface StoreRow {
  /** The `--store` value. */
  readonly name: string;
  /** What `--secret-id` means for it. */
  readonly secretId: string;
  /** Its own flags (by convention prefixed with the name: `--aws-region`). */
  readonly flags: FlagTable;
  /** A flag whose presence selects this store without `--store`. */
  readonly implied?: string;
  /** Opens it from the flag values; `again` lists the flags that name the same store. */
  readonly open: (
    io: CliIo,
    values: Readonly<Record<string, unknown>>,
  ) => Promise<{ store: KeyStore; again: string[]; close?: () => Promise<void> }>;
}

/**
 * The env-file flag. Not `--env-file`: Node itself looks for `--env-file` among **all** of a
 * script's arguments (up to a `--`), so `keyturn … --env-file app.env` makes Node read the file
 * before keyturn starts — it exits 9 ("not found") when the file is missing and applies a
 * `NODE_OPTIONS` line found in it. See the CLI README.
 */
export const STORE_FILE_FLAG = 'store-file';

const str = (values: Readonly<Record<string, unknown>>, name: string): string | undefined => values[name] as string | undefined;
const again = (pairs: ReadonlyArray<[string, string | undefined]>): string[] =>
  pairs.flatMap(([flag, v]) => (v === undefined ? [] : [`--${flag} ${shellQuote(v)}`]));

/** Every store the CLI opens. */
export const STORES: readonly StoreRow[] = [
  {
    name: 'env-file',
    secretId: 'env-file: variable name',
    flags: {
      [STORE_FILE_FLAG]: { type: 'string', arg: 'PATH', help: 'The .env-style file (env-file store; not --env-file, which Node takes)' },
    },
    implied: STORE_FILE_FLAG,
    async open(io, values) {
      const file = str(values, STORE_FILE_FLAG);
      if (file === undefined) throw new UsageError(`--store env-file needs --${STORE_FILE_FLAG} PATH`);
      const path = resolve(io.cwd, file);
      const { envFileKeyStore } = await import('@keyturn/store-env/file');
      const store = envFileKeyStore({ path, now: io.now, onWarning: (w) => io.stderr(`warning: ${w.message}\n`) });
      return { store, again: [`--${STORE_FILE_FLAG} ${shellQuote(path)}`] };
    },
  },
  {
    name: 'aws',
    secretId: 'aws: name or ARN',
    flags: {
      'aws-region': { type: 'string', arg: 'REGION', help: "AWS region (aws store; default: the SDK's)" },
      'aws-endpoint': { type: 'string', arg: 'URL', help: 'Secrets Manager endpoint (aws store; for tests and VPC endpoints)' },
    },
    async open(io, values) {
      const mod = await importOptional<typeof import('@keyturn/store-aws')>(
        '@keyturn/store-aws',
        '@keyturn/store-aws @aws-sdk/client-secrets-manager',
      );
      const region = str(values, 'aws-region') ?? io.env['AWS_REGION'] ?? io.env['AWS_DEFAULT_REGION'];
      const endpoint = str(values, 'aws-endpoint');
      // The same environment the command reads (process.env in a real run) supplies static credentials.
      const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = io.env;
      const credentials =
        accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
      const store = mod.awsSecretsManagerStore({ clientConfig: { region, endpoint, credentials }, now: io.now });
      return {
        store,
        again: again([
          ['aws-region', region],
          ['aws-endpoint', endpoint],
        ]),
      };
    },
  },
  {
    name: 'gcp',
    secretId: 'gcp: name',
    flags: {
      'gcp-project': { type: 'string', arg: 'ID', help: 'Project of bare secret names (gcp store)' },
      'gcp-endpoint': { type: 'string', arg: 'HOST:PORT', help: 'Secret Manager endpoint, plaintext (gcp store; for tests and emulators)' },
    },
    async open(io, values) {
      const mod = await importOptional<typeof import('@keyturn/store-gcp')>(
        '@keyturn/store-gcp',
        '@keyturn/store-gcp @google-cloud/secret-manager',
      );
      const projectId = str(values, 'gcp-project') ?? io.env['GOOGLE_CLOUD_PROJECT'];
      const endpoint = str(values, 'gcp-endpoint');
      let clientOptions: Record<string, unknown> = projectId === undefined ? {} : { projectId };
      if (endpoint !== undefined) {
        const m = /^(.+):(\d+)$/.exec(endpoint);
        if (m === null) throw new UsageError('--gcp-endpoint must be HOST:PORT');
        const grpc = await importOptional<{ credentials: { createInsecure(): unknown } }>('@grpc/grpc-js', '@grpc/grpc-js');
        // A plaintext local endpoint (tests, emulators): no TLS, and a fixed universe so nothing probes the metadata server.
        clientOptions = {
          apiEndpoint: m[1],
          port: Number(m[2]),
          sslCreds: grpc.credentials.createInsecure(),
          projectId: projectId ?? 'test',
          universeDomain: 'googleapis.com',
        };
      }
      const store = mod.gcpSecretManagerStore({ projectId, clientOptions, now: io.now });
      return {
        store,
        again: again([
          ['gcp-project', projectId],
          ['gcp-endpoint', endpoint],
        ]),
      };
    },
  },
  {
    name: 'azure',
    secretId: 'azure: secret name',
    flags: {
      'azure-vault-url': { type: 'string', arg: 'URL', help: 'The vault, https://NAME.vault.azure.net (azure store)' },
      'azure-tenant-id': { type: 'string', arg: 'ID', help: 'With --azure-client-id and AZURE_CLIENT_SECRET: a client-secret credential' },
      'azure-client-id': { type: 'string', arg: 'ID', help: '(azure store; default: DefaultAzureCredential)' },
    },
    async open(io, values) {
      const mod = await importOptional<typeof import('@keyturn/store-azure')>(
        '@keyturn/store-azure',
        '@keyturn/store-azure @azure/keyvault-secrets @azure/identity',
      );
      const vaultUrl = str(values, 'azure-vault-url');
      if (vaultUrl === undefined) throw new UsageError('--store azure needs --azure-vault-url URL');
      const tenantId = str(values, 'azure-tenant-id');
      const clientId = str(values, 'azure-client-id');
      const clientSecret = io.env['AZURE_CLIENT_SECRET'];
      let credential: import('@keyturn/store-azure').TokenCredentialLike | undefined;
      if (tenantId !== undefined || clientId !== undefined) {
        if (tenantId === undefined || clientId === undefined || clientSecret === undefined) {
          throw new UsageError(
            'a client-secret credential needs --azure-tenant-id, --azure-client-id and the AZURE_CLIENT_SECRET environment variable',
          );
        }
        const identity = await importOptional<typeof import('@azure/identity')>('@azure/identity', '@azure/identity');
        credential = new identity.ClientSecretCredential(tenantId, clientId, clientSecret);
      }
      const store = mod.azureKeyVaultStore({ vaultUrl, credential, now: io.now });
      return {
        store,
        again: again([
          ['azure-vault-url', vaultUrl],
          ['azure-tenant-id', tenantId],
          ['azure-client-id', clientId],
        ]),
      };
    },
  },
];

/** `--store` and every row's flags. */
export const STORE_FLAGS: FlagTable = Object.assign(
  {
    store: {
      type: 'string',
      arg: STORES.map((s) => s.name).join('|'),
      help: `Which store holds the secret (${STORES.filter((s) => s.implied)
        .map((s) => `${s.name} is implied by --${s.implied}`)
        .join('; ')})`,
    },
  },
  ...STORES.map((s) => s.flags),
) as FlagTable;

/** Help text for the store flags. */
export const STORE_HELP = `Store:
${flagHelp(STORE_FLAGS)}
  --secret-id ID             The secret (${STORES.map((s) => s.secretId).join('; ')})`;

/** Opens the store named by the flags. */
export async function openStore(io: CliIo, values: Readonly<Record<string, unknown>>): Promise<OpenedStore> {
  const named = values['store'] as string | undefined;
  const row =
    named === undefined
      ? STORES.find((s) => s.implied !== undefined && values[s.implied] !== undefined)
      : STORES.find((s) => s.name === named);
  if (row === undefined) {
    const names = STORES.map((s) => s.name).join(', ');
    if (named !== undefined) throw new UsageError(`--store: unknown store "${named}" (${names})`);
    throw new UsageError(`pass --store ${STORES.map((s) => s.name).join('|')} (or --${STORE_FILE_FLAG} PATH)`);
  }
  const opened = await row.open(io, values);
  const flags =
    row.implied !== undefined && named === undefined ? opened.again.join(' ') : [`--store ${row.name}`, ...opened.again].join(' ');
  return {
    store: opened.store,
    flags,
    close: async () => {
      await opened.close?.();
      await opened.store.dispose?.();
    },
  };
}
