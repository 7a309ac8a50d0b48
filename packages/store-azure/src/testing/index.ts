/**
 * `@keyturn/store-azure/testing` — **experimental**: an offline Azure Key Vault (secrets only) for
 * tests, served over HTTPS on 127.0.0.1 with a certificate it creates, plus the Microsoft Entra token
 * endpoint the client-credentials flow needs. The real `SecretClient` (`@azure/keyvault-secrets`) and
 * `ClientSecretCredential` (`@azure/identity`) run their whole pipeline against it: challenge-based
 * authentication, token request, paging with `nextLink`, errors, `Retry-After`.
 *
 * Scope (what it models and what it does not) is listed in `docs/store-azure.md`. The API may change in
 * any minor release; it is not a Key Vault emulator for production use.
 *
 * @example
 * ```ts
 * import { ClientSecretCredential } from '@azure/identity';
 * import { SecretClient } from '@azure/keyvault-secrets';
 * import { startKeyVaultServer } from '@keyturn/store-azure/testing';
 *
 * const vault = await startKeyVaultServer();
 * vault.model.addVersion('webhook', 'whsec_old');
 * const credential = new ClientSecretCredential(vault.tenantId, vault.clientId, vault.clientSecret, vault.credentialOptions());
 * const client = new SecretClient(vault.vaultUrl, credential, vault.clientOptions());
 * // ...
 * await vault.close();
 * ```
 *
 * @experimental
 * @module
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent } from 'node:https';
import { createTestCertificates, type TestCertificates } from './certs.ts';
import { KeyVaultModel, type KeyVaultModelOptions } from './model.ts';
import { startFront, type Front, type TokenRequest } from './server.ts';

export { createTestCertificates, DEFAULT_TEST_HOSTS, type TestCertificates, type TestCertificateOptions } from './certs.ts';
export {
  KeyVaultModel,
  KeyVaultError,
  type KeyVaultModelOptions,
  type KeyVaultOperation,
  type KeyVaultFault,
  type KeyVaultCall,
  type VersionRecord,
  type SecretRecord,
  type DeletedSecretRecord,
  type SeedVersionOptions,
  type AttributePatch,
  type VersionLookup,
  type VersionListing,
} from './model.ts';
export { SUPPORTED_API_VERSIONS, type TokenRequest } from './server.ts';

/** Options of {@link startKeyVaultServer}. @experimental */
export interface KeyVaultServerOptions extends KeyVaultModelOptions {
  /** Vault name: the vault URL is `https://<vaultName>.vault.localhost:<port>`. @default 'test-vault' */
  readonly vaultName?: string | undefined;
  /**
   * The `resource` of the 401 challenge (the token audience). The real service says
   * `https://vault.azure.net`; the default matches the local vault's domain so the SDK's challenge
   * resource check passes unchanged.
   * @default 'https://vault.localhost'
   */
  readonly resource?: string | undefined;
  /** Tenant id (a GUID). @default a fixed test GUID */
  readonly tenantId?: string | undefined;
  /** Client (application) id accepted by the token endpoint. @default a fixed test GUID */
  readonly clientId?: string | undefined;
  /** Client secret accepted by the token endpoint. @default a random string */
  readonly clientSecret?: string | undefined;
  /** Most items per list page (the service's own maximum is 25). @default 25 */
  readonly pageSize?: number | undefined;
  /** `api-version` written into `nextLink`s (the service may write an older one than was asked). @default the request's */
  readonly nextLinkApiVersion?: string | undefined;
  /** Lifetime of issued access tokens, in seconds (against the real clock). @default 3_600 */
  readonly tokenLifetimeSeconds?: number | undefined;
  /** TLS material. @default made by {@link createTestCertificates} */
  readonly certificates?: TestCertificates | undefined;
  /** An existing model to serve (share one between servers, or seed before starting). */
  readonly model?: KeyVaultModel | undefined;
}

/** Pipeline options for a `SecretClient` pointed at the server. @experimental */
export interface TestClientOptions {
  /** An HTTPS agent that trusts the test CA and resolves `*.localhost` to 127.0.0.1. */
  agent: Agent;
}

/** Options for `ClientSecretCredential` (or any `@azure/identity` credential with an authority). @experimental */
export interface TestCredentialOptions {
  /** The local token endpoint's origin. */
  authorityHost: string;
  /** The same agent as {@link TestClientOptions.agent}. */
  agent: Agent;
  /** Skips the instance-discovery call to the public cloud (the local authority is trusted as is). */
  disableInstanceDiscovery: true;
}

/** A running offline Key Vault. @experimental */
export interface KeyVaultServer {
  /** `https://<vaultName>.vault.localhost:<port>`. */
  readonly vaultUrl: string;
  /** `https://login.localhost:<port>` (the same port). */
  readonly authorityHost: string;
  /** The challenge resource (token audience). */
  readonly resource: string;
  /** Tenant id. */
  readonly tenantId: string;
  /** Client id the token endpoint accepts. */
  readonly clientId: string;
  /** Client secret the token endpoint accepts. */
  readonly clientSecret: string;
  /** The port on 127.0.0.1. */
  readonly port: number;
  /** The CA certificate to trust (PEM). */
  readonly caPem: string;
  /** The vault's state: seed it, inject faults, read `calls`. */
  readonly model: KeyVaultModel;
  /** Token requests answered, in order. */
  readonly tokenRequests: readonly TokenRequest[];
  /** 401 challenges sent so far. */
  readonly challenges: number;
  /** An agent that trusts the CA and resolves `localhost` names to 127.0.0.1 (and nothing else). */
  readonly agent: Agent;
  /** `SecretClient` options: `{ agent }`. */
  clientOptions(): TestClientOptions;
  /** `ClientSecretCredential` options: `{ authorityHost, agent, disableInstanceDiscovery: true }`. */
  credentialOptions(): TestCredentialOptions;
  /** Stops the server, ends hanging requests and the agent's sockets. */
  close(): Promise<void>;
}

const DEFAULT_TENANT = '72f988bf-0000-4000-8000-00000000c0de';
const DEFAULT_CLIENT = 'fad7d5b3-0000-4000-8000-00000000c11e';

/**
 * Starts an offline Key Vault on 127.0.0.1 (an ephemeral port). The vault and the token endpoint are
 * told apart by host name (`<vault>.vault.localhost`, `login.localhost`), which the returned `agent`
 * resolves to 127.0.0.1 (RFC 6761: `localhost` names are loopback) — no DNS, no network.
 *
 * @experimental
 */
export async function startKeyVaultServer(options: KeyVaultServerOptions = {}): Promise<KeyVaultServer> {
  const vaultName = options.vaultName ?? 'test-vault';
  if (!/^[a-z0-9](?:[a-z0-9-]{1,22})[a-z0-9]$/i.test(vaultName))
    throw new TypeError('startKeyVaultServer(): `vaultName` must be 3–24 letters, digits or hyphens');
  const pageSize = options.pageSize ?? 25;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 25)
    throw new TypeError('startKeyVaultServer(): `pageSize` must be an integer from 1 to 25');
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3_600;
  if (!Number.isInteger(tokenLifetimeSeconds) || tokenLifetimeSeconds < 1)
    throw new TypeError('startKeyVaultServer(): `tokenLifetimeSeconds` must be a positive integer');
  const certificates = options.certificates ?? createTestCertificates();
  const model = options.model ?? new KeyVaultModel(options);
  const vaultHost = `${vaultName.toLowerCase()}.vault.localhost`;
  const loginHost = 'login.localhost';
  const tenantId = options.tenantId ?? DEFAULT_TENANT;
  const clientId = options.clientId ?? DEFAULT_CLIENT;
  const clientSecret = options.clientSecret ?? `test-${Math.random().toString(36).slice(2)}`;
  const resource = options.resource ?? 'https://vault.localhost';
  const front: Front = await startFront({
    model,
    certificates,
    vaultHost,
    loginHost,
    resource,
    tenantId,
    clientId,
    clientSecret,
    pageSize,
    nextLinkApiVersion: options.nextLinkApiVersion,
    tokenLifetimeSeconds,
  });
  const agent = new Agent({ ca: certificates.caPem, lookup: loopbackLookup as never, keepAlive: true });
  const authorityHost = `https://${loginHost}:${front.port}`;
  return {
    vaultUrl: `https://${vaultHost}:${front.port}`,
    authorityHost,
    resource,
    tenantId,
    clientId,
    clientSecret,
    port: front.port,
    caPem: certificates.caPem,
    model,
    get tokenRequests() {
      return front.tokenRequests;
    },
    get challenges() {
      return front.challenges;
    },
    agent,
    clientOptions: () => ({ agent }),
    credentialOptions: () => ({ authorityHost, agent, disableInstanceDiscovery: true }),
    async close() {
      agent.destroy();
      await front.close();
    },
  };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** `localhost` and `*.localhost` → 127.0.0.1; anything else fails, so a test can never reach the network. */
function loopbackLookup(hostname: string, opts: { all?: boolean } | LookupCallback, cb?: LookupCallback): void {
  const callback = (typeof opts === 'function' ? opts : cb) as LookupCallback;
  const all = typeof opts === 'object' && opts.all === true;
  const name = hostname.toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) {
    if (all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  if (name === '127.0.0.1') {
    dnsLookup(name, opts as never, callback as never);
    return;
  }
  const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (the test agent resolves only localhost names)`), {
    code: 'ENOTFOUND',
    hostname,
  });
  process.nextTick(() => callback(err, all ? [] : ''));
}
