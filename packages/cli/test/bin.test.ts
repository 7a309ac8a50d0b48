/**
 * The built `keyturn` executable (packages/cli/dist/bin.js, run through its `#!/usr/bin/env node`
 * shebang, the way npm's bin link runs it) for every command, with real exit codes, real pipes, a
 * real Dataspike test server, a real usage endpoint over HTTP, and the AWS test server.
 *
 * Needs the packages built (`pnpm test` builds them first).
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { startDataspikeTestServer } from '@keyturn/rotation/testing';
import { startSecretsManagerServer } from '@keyturn/store-aws/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const OLD = `whsec_${'0123456789abcdef'.repeat(4)}`;
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built executable itself (its shebang finds `node` on PATH). */
function keyturn(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      BIN,
      args,
      {
        cwd: options.cwd,
        env: {
          PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...options.env,
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

async function workdir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'keyturn-bin-'));
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the packages first (pnpm test does)`);
  const built = statSync(BIN).mtimeMs;
  const newest = Math.max(...readdirSync(SRC).map((f) => statSync(join(SRC, f)).mtimeMs));
  if (newest > built + 1_000) throw new Error('packages/cli/dist is older than src: rebuild (turbo run build --filter=@keyturn/cli)');
});

describe('the built keyturn executable', () => {
  it("help, version and every command's --help", async () => {
    const dir = await workdir();
    const top = await keyturn(['--help'], { cwd: dir });
    expect(top.code).toBe(0);
    for (const c of ['sign', 'verify', 'keys list', 'keys add', 'keys retire', 'rotate dataspike', 'challenge smartcar', 'status'])
      expect(top.stdout).toContain(c);
    expect(top.stdout).toContain('--store-file');
    expect((await keyturn(['--version'], { cwd: dir })).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await keyturn(['status', '--help'], { cwd: dir });
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('--usage-auth-env NAME') });
    expect((await keyturn([], { cwd: dir })).code).toBe(2);
  }, 30_000);

  it('sign | verify through pipes, with the exit code of each rejection', async () => {
    const dir = await workdir();
    const body = '{"eventId":"e1","eventType":"VEHICLE_STATE"}';
    const signed = await keyturn(['sign', '--provider', 'smartcar', '--secret-env', 'AMT'], {
      cwd: dir,
      env: { AMT: 'amt-1' },
      input: body,
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toBe(`sc-signature: ${createHmac('sha256', 'amt-1').update(body).digest('hex')}\n`);
    const ok = await keyturn(['verify', '--provider', 'smartcar', '--secret-env', 'AMT', '-H', signed.stdout.trim()], {
      cwd: dir,
      env: { AMT: 'amt-1' },
      input: body,
    });
    expect(ok.code).toBe(0);
    const bad = await keyturn(['verify', '--provider', 'smartcar', '--secret-env', 'AMT', '-H', signed.stdout.trim()], {
      cwd: dir,
      env: { AMT: 'amt-2' },
      input: body,
    });
    expect(bad).toMatchObject({ code: 14, stderr: expect.stringContaining('rejected: NO_MATCHING_KEY') });
    // Against an env-file store.
    await writeFile(join(dir, 'app.env'), 'SC=amt-1\n', { mode: 0o600 });
    const viaStore = await keyturn(
      ['verify', '--provider', 'smartcar', '--store-file', 'app.env', '--secret-id', 'SC', '-H', signed.stdout.trim()],
      { cwd: dir, input: body },
    );
    expect(viaStore).toMatchObject({ code: 0, stdout: expect.stringMatching(/^verified: key SC@[0-9a-f]{8} \(active\) for SC\n$/) });
  }, 30_000);

  it('keys add → keys list → status --usage-url (auth from an env var) → keys retire', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), 'SC=old-token-1111\n', { mode: 0o600 });
    await writeFile(join(dir, 'new-token'), 'new-token-2222\n');
    const store = ['--store-file', 'app.env', '--secret-id', 'SC'];
    const added = await keyturn(['keys', 'add', ...store, '--secret-file', 'new-token', '--grace', '2h'], { cwd: dir });
    expect(added.code, added.stderr).toBe(0);
    expect(`${added.stdout}${added.stderr}`).not.toContain('token-2222');
    const listed = await keyturn(['keys', 'list', ...store, '--json'], { cwd: dir });
    const keys = JSON.parse(listed.stdout).keys as { id: string; role: string }[];
    expect(keys.map((k) => k.role)).toEqual(['active', 'previous']);
    const [active, previous] = [keys[0]!.id, keys[1]!.id];
    const now = Date.now();
    const snapshot = {
      version: 1,
      instances: ['app-1'],
      since: now - 3 * 86_400_000,
      takenAt: now,
      keys: [
        { secretId: 'SC', keyId: active, keyRole: 'active', matches: 3, lastMatchedAt: now - 60_000, lastSeenAt: now },
        { secretId: 'SC', keyId: previous, keyRole: 'previous', matches: 1, lastMatchedAt: now - 2 * 86_400_000, lastSeenAt: now },
      ],
    };
    const usage = await usageServer({ requireHeader: ['x-admin-token', 'adm-secret-42'], snapshot });
    try {
      const status = await keyturn(
        [
          'status',
          ...store,
          '--usage-url',
          `${usage.url}/usage`,
          '--usage-auth-env',
          'ADMIN',
          '--usage-auth-header',
          'X-Admin-Token',
          '--check',
        ],
        {
          cwd: dir,
          env: { ADMIN: 'adm-secret-42' },
        },
      );
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain('SC: previous key safe to retire: yes');
      expect(usage.requests.at(-1)?.['x-admin-token']).toBe('adm-secret-42');
      expect(`${status.stdout}${status.stderr}`).not.toContain('adm-secret-42');
      const retired = await keyturn(
        [
          'keys',
          'retire',
          ...store,
          '--usage-url',
          `${usage.url}/usage`,
          '--usage-auth-env',
          'ADMIN',
          '--usage-auth-header',
          'X-Admin-Token',
          '--key-id',
          previous,
        ],
        {
          cwd: dir,
          env: { ADMIN: 'adm-secret-42' },
        },
      );
      expect(retired).toMatchObject({ code: 0, stdout: `SC: retired ${previous}\n` });
      expect(await readFile(join(dir, 'app.env'), 'utf8')).toBe('SC=new-token-2222\n');
    } finally {
      await usage.close();
    }
  }, 30_000);

  it('rotate dataspike against a local Dataspike API, then challenge smartcar from the store', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), `DS=${OLD}\nSC=amt-token-1\n`, { mode: 0o600 });
    const ds = await startDataspikeTestServer({ apiKey: 'k-123', webhooks: { [WEBHOOK]: OLD } });
    try {
      const r = await keyturn(
        [
          'rotate',
          'dataspike',
          '--webhook-id',
          WEBHOOK,
          '--base-url',
          ds.url,
          '--store-file',
          'app.env',
          '--secret-id',
          'DS',
          '--grace',
          '1h',
        ],
        {
          cwd: dir,
          env: { DATASPIKE_API_KEY: 'k-123' },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const secret = ds.currentSecret(WEBHOOK);
      expect(parseEnv(await readFile(join(dir, 'app.env'), 'utf8'))).toMatchObject({ DS: secret, DS_PREVIOUS: OLD });
      expect(`${r.stdout}${r.stderr}`).not.toContain(secret.slice(6));
      expect(await readdir(dir)).toEqual(['app.env']);
    } finally {
      await ds.close();
    }
    const challenge = await keyturn(['challenge', 'smartcar', '--challenge', 'chal-123', '--store-file', 'app.env', '--secret-id', 'SC'], {
      cwd: dir,
    });
    expect(challenge).toMatchObject({
      code: 0,
      stdout: `{"challenge":"${createHmac('sha256', 'amt-token-1').update('chal-123').digest('hex')}"}\n`,
    });
  }, 30_000);

  it('rotate dataspike whose answers are lost after Dataspike rotated (503, 503, dropped): exit 34 and the steps, not "nothing changed"', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), `DS=${OLD}\n`, { mode: 0o600 });
    const ds = await startDataspikeTestServer({ apiKey: 'k-123', webhooks: { [WEBHOOK]: OLD } });
    try {
      ds.failNext({ respond: 503 }, { respond: 503 }, { respond: 'drop', afterRotate: true });
      const r = await keyturn(
        [
          'rotate',
          'dataspike',
          '--webhook-id',
          WEBHOOK,
          '--base-url',
          ds.url,
          '--store-file',
          'app.env',
          '--secret-id',
          'DS',
          '--grace',
          '1h',
        ],
        {
          cwd: dir,
          env: { DATASPIKE_API_KEY: 'k-123' },
        },
      );
      expect(r.code).toBe(34);
      expect(r.stderr).toContain('PROVIDER_MAY_HAVE_ROTATED: Dataspike may have rotated the secret');
      expect(r.stderr).toContain('HTTP 503, HTTP 503, connection lost');
      expect(r.stderr).toContain(
        `rotate again: keyturn rotate dataspike --webhook-id ${WEBHOOK} --store-file ${join(dir, 'app.env')} --secret-id DS --grace 3600000ms --base-url ${ds.url}`,
      );
      expect(r.stderr).toContain(
        `keyturn keys add --store-file ${join(dir, 'app.env')} --secret-id DS --secret-file <file with the secret> --grace 3600000ms`,
      );
      expect(r.stderr).not.toContain('nothing changed');
      expect(await readFile(join(dir, 'app.env'), 'utf8')).toBe(`DS=${OLD}\n`);
      // A refused key, by contrast, is certain: exit 31, nothing changed.
      const refused = await keyturn(
        ['rotate', 'dataspike', '--webhook-id', WEBHOOK, '--base-url', ds.url, '--store-file', 'app.env', '--secret-id', 'DS'],
        {
          cwd: dir,
          env: { DATASPIKE_API_KEY: 'wrong' },
        },
      );
      expect(refused).toMatchObject({ code: 31, stderr: expect.stringContaining('nothing changed') });
    } finally {
      await ds.close();
    }
  }, 30_000);

  it('keys list on the AWS store (optional peers loaded by the built CLI)', async () => {
    const dir = await workdir();
    const server = await startSecretsManagerServer();
    try {
      const config = server.clientConfig();
      const v1 = server.createSecret('prod/webhooks/x', OLD).versionId!;
      const r = await keyturn(
        [
          'keys',
          'list',
          '--store',
          'aws',
          '--aws-region',
          config.region,
          '--aws-endpoint',
          config.endpoint,
          '--secret-id',
          'prod/webhooks/x',
          '--json',
        ],
        {
          cwd: dir,
          env: { AWS_ACCESS_KEY_ID: config.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: config.credentials.secretAccessKey },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).keys).toEqual([{ id: v1, role: 'active' }]);
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe("--env-file is Node's option, not keyturn's", () => {
  it("Node intercepts it after the script name: a missing path exits 9 with Node's message before keyturn runs", async () => {
    const dir = await workdir();
    const r = await keyturn(['keys', 'list', '--env-file', 'missing.env', '--secret-id', 'X'], { cwd: dir });
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/missing\.env: not found/);
    expect(r.stderr).not.toContain('keyturn');
  }, 30_000);

  it('an existing file: Node applies a NODE_OPTIONS line from it, then keyturn refuses the flag (exit 2) and names --store-file', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'marker.cjs'), "process.stderr.write('NODE_OPTIONS from the env file ran\\n');\n");
    await writeFile(join(dir, 'app.env'), `X=secret-1\nNODE_OPTIONS="--require ./marker.cjs"\n`, { mode: 0o600 });
    const old = await keyturn(['keys', 'list', '--env-file', 'app.env', '--secret-id', 'X'], { cwd: dir });
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('NODE_OPTIONS from the env file ran'); // why the flag had to go
    expect(old.stderr).toContain("--env-file is Node.js's own option");
    expect(old.stderr).toContain('--store-file PATH');
    expect((await keyturn(['keys', 'list', '--env-file=app.env', '--secret-id', 'X'], { cwd: dir })).code).toBe(2);
    // The new flag: Node leaves the file alone, keyturn reads it.
    const ok = await keyturn(['keys', 'list', '--store-file', 'app.env', '--secret-id', 'X', '--json'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('NODE_OPTIONS from the env file ran');
    expect(JSON.parse(ok.stdout).keys).toHaveLength(1);
  }, 30_000);
});

describe('status --usage-url failures: the URL named, one exit code per kind, never the usage text', () => {
  let usage: Awaited<ReturnType<typeof usageServer>>;
  let dir: string;
  const store = ['--store-file', 'app.env', '--secret-id', 'SC'];
  beforeAll(async () => {
    usage = await usageServer({
      requireHeader: ['authorization', 'Bearer adm-42'],
      snapshot: { version: 1, instances: ['a'], since: 0, takenAt: 0, keys: [] },
    });
    dir = await workdir();
    await writeFile(join(dir, 'app.env'), 'SC=tok\n', { mode: 0o600 });
    await writeFile(join(dir, 'admin-token'), 'Bearer adm-42\n', { mode: 0o600 });
  });
  afterAll(async () => usage.close());

  it.each([
    ['unreachable', () => `http://127.0.0.1:${usage.closedPort}/usage`, 35, /cannot be reached \(ECONNREFUSED\)/],
    [
      'HTTP 401 without credentials',
      () => `${usage.url}/usage`,
      36,
      /answered HTTP 401; it wants credentials: pass --usage-auth-env NAME or --usage-auth-file PATH/,
    ],
    ['HTTP 500', () => `${usage.url}/boom`, 37, /answered HTTP 500 Internal Server Error/],
    [
      'a redirect',
      () => `${usage.url}/moved`,
      37,
      /answered HTTP 302, a redirect to http:\/\/elsewhere\.invalid\/usage; pass the final URL/,
    ],
    ['not JSON', () => `${usage.url}/html`, 38, /the answer is not JSON \(content-type text\/html\)/],
    ['JSON but not a snapshot', () => `${usage.url}/other`, 38, /not a keyturn usage snapshot/],
  ] as const)(
    '%s',
    async (_kind, url, exit, message) => {
      const r = await keyturn(['status', ...store, '--usage-url', url()], { cwd: dir });
      expect(r.code).toBe(exit);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(`--usage-url ${url()}`);
      expect(r.stderr).not.toContain('Usage'); // no help text dump
      expect(r.stderr).not.toContain('--quiet DURATION');
    },
    30_000,
  );

  it('auth from a file works; a refused header is 36 and is never printed; credentials in the URL are refused', async () => {
    const ok = await keyturn(['status', ...store, '--usage-url', `${usage.url}/usage`, '--usage-auth-file', 'admin-token'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(usage.requests.at(-1)?.['authorization']).toBe('Bearer adm-42');
    const wrong = await keyturn(['status', ...store, '--usage-url', `${usage.url}/usage`, '--usage-auth-env', 'TOKEN'], {
      cwd: dir,
      env: { TOKEN: 'Bearer nope-77' },
    });
    expect(wrong).toMatchObject({ code: 36, stderr: expect.stringContaining('the authorization header was refused') });
    expect(wrong.stderr).not.toContain('nope-77');
    const inUrl = await keyturn(['status', ...store, '--usage-url', `http://user:pw-99@127.0.0.1:${usage.port}/usage`], { cwd: dir });
    expect(inUrl.code).toBe(2);
    expect(inUrl.stderr).toContain('credentials do not belong in the URL');
    expect(inUrl.stderr).not.toContain('pw-99');
  }, 30_000);
});

/** A local admin endpoint serving a usage snapshot (and some failure modes). */
async function usageServer(options: { requireHeader: [string, string]; snapshot: unknown }) {
  const requests: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.headers);
    const [name, value] = options.requireHeader;
    switch (req.url) {
      case '/usage':
        if (req.headers[name] !== value) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.snapshot));
        return;
      case '/boom':
        res.writeHead(500).end('oops');
        return;
      case '/moved':
        res.writeHead(302, { location: 'http://elsewhere.invalid/usage' }).end();
        return;
      case '/html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html>login</html>');
        return;
      case '/other':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    closedPort,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
