import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createSecureContext } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestCertificates, startKeyVaultServer, SUPPORTED_API_VERSIONS, type KeyVaultServer } from '../src/testing/index.ts';
import { harness } from './helpers.ts';

let vault: KeyVaultServer;
let credential: ClientSecretCredential;
let token = '';
beforeAll(async () => {
  vault = await startKeyVaultServer({ pageSize: 2, nextLinkApiVersion: '7.2', purgeProtection: false });
  credential = new ClientSecretCredential(vault.tenantId, vault.clientId, vault.clientSecret, vault.credentialOptions());
  token = (await credential.getToken(`${vault.resource}/.default`))!.token;
});
afterAll(() => vault.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: the emulator's JSON answers, read field by field by the assertions
  body: any;
}
function raw(method: string, path: string, o: { token?: string; body?: unknown; host?: string } = {}): Promise<Answer> {
  const url = new URL(path, o.host ?? vault.vaultUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: vault.agent,
        headers: { ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }), 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text.length === 0 ? undefined : JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end(o.body === undefined ? undefined : JSON.stringify(o.body));
  });
}

describe('the offline Key Vault, on the wire (what the REST reference specifies)', () => {
  it('answers a request without a token with 401 and the challenge', async () => {
    const a = await raw('GET', '/secrets/x/versions?api-version=7.4');
    expect(a.status).toBe(401);
    expect(a.headers['www-authenticate']).toBe(
      `Bearer authorization="${vault.authorityHost}/${vault.tenantId}", resource="https://vault.localhost"`,
    );
    expect(a.body).toEqual({ error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } });
  });

  it('refuses a token for another audience and a forged one', async () => {
    const other = (await credential.getToken('https://graph.localhost/.default'))!.token;
    const wrong = await raw('GET', '/secrets/x/versions?api-version=7.4', { token: other });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toContain('AKV10022: Invalid audience');
    const forged = await raw('GET', '/secrets/x/versions?api-version=7.4', { token: `${token.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
  });

  it('requires a known api-version', async () => {
    expect((await raw('GET', '/secrets/x/versions', { token })).body.error.code).toBe('BadParameter');
    const a = await raw('GET', '/secrets/x/versions?api-version=7.9', { token });
    expect(a.status).toBe(400);
    expect(a.body.error.message).toBe(
      `The specified version (7.9) is not recognized. Consider using the latest supported version (${SUPPORTED_API_VERSIONS.at(-1)}).`,
    );
  });

  it("pages with an absolute nextLink ($skiptoken, the link's own api-version) and validates maxresults", async () => {
    for (let i = 0; i < 5; i++) vault.model.addVersion('paged', `v${i}`);
    const first = await raw('GET', '/secrets/paged/versions?api-version=2025-07-01&maxresults=2', { token });
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(2);
    expect(first.body.value[0]).toEqual({
      id: expect.stringMatching(new RegExp(`^${vault.vaultUrl}/secrets/paged/[0-9a-f]{32}$`)),
      attributes: expect.objectContaining({ enabled: true, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 }),
    });
    expect('value' in first.body.value[0]).toBe(false);
    const next = new URL(first.body.nextLink as string);
    expect(next.origin).toBe(vault.vaultUrl);
    expect(next.searchParams.get('api-version')).toBe('7.2');
    expect(next.searchParams.get('$skiptoken')).toBeTruthy();
    expect(next.searchParams.get('maxresults')).toBe('2');
    const ids = [...first.body.value];
    let link: string | null = first.body.nextLink;
    while (link !== null) {
      const page = await raw('GET', link, { token });
      ids.push(...page.body.value);
      link = page.body.nextLink;
    }
    expect(ids.map((i) => i.id)).toEqual([...ids.map((i) => i.id)].sort());
    expect(new Set(ids.map((i) => i.id)).size).toBe(5);
    expect((await raw('GET', '/secrets/paged/versions?api-version=7.4&maxresults=26', { token })).status).toBe(400);
    expect((await raw('GET', '/secrets/never/versions?api-version=7.4', { token })).body).toEqual({ value: [], nextLink: null });
  });

  it('"latest" (no version) is the newest version whatever its state: disabled newest → 403 SecretDisabled', async () => {
    vault.model.addVersion('latest-trap', 'good');
    vault.model.addVersion('latest-trap', 'off', { enabled: false });
    const a = await raw('GET', '/secrets/latest-trap/?api-version=7.4', { token });
    expect(a.status).toBe(403);
    expect(a.body).toEqual({
      error: { code: 'Forbidden', message: 'Operation get is not allowed on a disabled secret.', innererror: { code: 'SecretDisabled' } },
    });
  });

  it('validates attributes and tags like the service', async () => {
    const set = await raw('PUT', '/secrets/attrs?api-version=7.4', { token, body: { value: 'x', attributes: { nbf: 2_000_000_000 } } });
    expect(set.status).toBe(200);
    expect(set.body.value).toBe('x');
    const version = (set.body.id as string).split('/').pop();
    expect(
      (await raw('PATCH', `/secrets/attrs/${version}?api-version=7.4`, { token, body: { attributes: { exp: 1_000_000_000 } } })).status,
    ).toBe(400);
    const tags = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'v']));
    expect((await raw('PUT', '/secrets/attrs?api-version=7.4', { token, body: { value: 'y', tags } })).status).toBe(400);
    expect((await raw('PUT', '/secrets/attrs?api-version=7.4', { token, body: { attributes: {} } })).status).toBe(400);
    expect((await raw('PUT', '/secrets/bad_name?api-version=7.4', { token, body: { value: 'y' } })).status).toBe(400);
  });

  it('soft delete: 409 ObjectIsDeletedButRecoverable on reuse, then purge frees the name', async () => {
    vault.model.addVersion('soft', 'x');
    const del = await raw('DELETE', '/secrets/soft?api-version=7.4', { token });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({
      recoveryId: `${vault.vaultUrl}/deletedsecrets/soft`,
      deletedDate: expect.any(Number),
      scheduledPurgeDate: del.body.deletedDate + 90 * 86_400,
    });
    const reuse = await raw('PUT', '/secrets/soft?api-version=7.4', { token, body: { value: 'y' } });
    expect(reuse.status).toBe(409);
    expect(reuse.body.error.innererror).toEqual({ code: 'ObjectIsDeletedButRecoverable' });
    expect((await raw('GET', '/secrets/soft/?api-version=7.4', { token })).body.error.code).toBe('SecretNotFound');
    expect((await raw('DELETE', '/deletedsecrets/soft?api-version=7.4', { token })).status).toBe(204);
    expect((await raw('PUT', '/secrets/soft?api-version=7.4', { token, body: { value: 'y' } })).status).toBe(200);
  });

  it('purge protection refuses a purge before the retention ends', async () => {
    const p = await startKeyVaultServer({ purgeProtection: true, recoverableDays: 7 });
    try {
      p.model.addVersion('kept', 'x');
      p.model.deleteSecret('kept');
      expect(p.model.recoveryLevel).toBe('CustomizedRecoverable');
      expect(() => p.model.purgeDeletedSecret('kept')).toThrow(/purge protection/);
    } finally {
      await p.close();
    }
  });
});

describe("the SDK's own retries (when a caller turns them on) honour Retry-After", () => {
  it('waits the Retry-After seconds, then succeeds (fake timers: no real wait)', async () => {
    const h = await harness();
    try {
      h.vault.model.addVersion('busy', 'ok');
      const client = new SecretClient(h.vault.vaultUrl, h.credential, { ...h.vault.clientOptions(), retryOptions: { maxRetries: 1 } });
      const v = (await client.listPropertiesOfSecretVersions('busy').next()).value; // token out of the way
      h.vault.model.injectFault({ op: 'getSecret', status: 429, retryAfterSeconds: 30 });
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        const pending = client.getSecret('busy', { version: v!.version! });
        await vi.waitFor(() => expect(h.vault.model.calls.filter((c) => c.op === 'getSecret').map((c) => c.status)).toEqual([429]), {
          interval: 5,
        });
        await vi.waitFor(() => expect(vi.getTimerCount()).toBeGreaterThan(0));
        await vi.advanceTimersByTimeAsync(29_000);
        expect(h.vault.model.calls.filter((c) => c.op === 'getSecret')).toHaveLength(1);
        await vi.advanceTimersByTimeAsync(1_500);
        vi.useRealTimers();
        expect((await pending).value).toBe('ok');
        expect(h.vault.model.calls.filter((c) => c.op === 'getSecret').map((c) => c.status)).toEqual([429, 200]);
      } finally {
        vi.useRealTimers();
      }
    } finally {
      await h.close();
    }
  });
});

describe('test certificates', () => {
  it('always encode as strict DER (200 fresh pairs load into a TLS context)', { timeout: 30_000 }, () => {
    // A random serial with a leading 0x00 byte once made 1 server in ~250 fail to start ("illegal
    // padding"); 400 serials catch that with ~80 % probability.
    for (let i = 0; i < 200; i++) {
      const c = createTestCertificates();
      createSecureContext({ cert: c.certPem, key: c.keyPem, ca: c.caPem });
    }
  });

  it('chain to their CA and name the hosts (checked by node:crypto and, when present, by openssl)', () => {
    const c = createTestCertificates();
    const ca = new X509Certificate(c.caPem);
    const leaf = new X509Certificate(c.certPem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost('my-vault.vault.localhost')).toBe('*.vault.localhost');
    expect(leaf.checkHost('login.localhost')).toBe('login.localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkHost('vault.azure.net')).toBeUndefined();
    let openssl = true;
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      openssl = false;
    }
    if (!openssl) return; // node:crypto checked it above; openssl is an independent second opinion
    const dir = mkdtempSync(join(tmpdir(), 'kt-certs-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), c.caPem);
      writeFileSync(join(dir, 'leaf.pem'), c.certPem);
      expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]).toString()).toContain(': OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
