/**
 * `--dynamodb-table`: the built `keyturn` executable (dist/bin.js, spawned) against a keyturn DynamoDB
 * table on dynalite (127.0.0.1), with Lambda-like "containers" in this process (verifiers on
 * `dynamodbFleet`, the real @aws-sdk/client-dynamodb) writing the usage ledger and polling the
 * key-change markers. The CLI's AWS credentials come from the SDK's chain (environment variables here).
 *
 * Needs the packages built (`pnpm test` builds them first).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createVerifier, providers, sign, type Verifier } from '@keyturn/core';
import { dynamodbFleet, tableDefinition, type DynamoDbFleet } from '@keyturn/dynamodb';
import { startDataspikeTestServer } from '@keyturn/rotation/testing';
import { envFileKeyStore } from '@keyturn/store-env/file';
// @ts-expect-error -- dynalite has no type declarations
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const OLD = `whsec_${'0123456789abcdef'.repeat(4)}`;
const NEW = `whsec_${'fedcba9876543210'.repeat(4)}`;
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const profile = providers.dataspike();

let server: Server;
let endpoint: string;
let client: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the packages first (pnpm test does)`);
  const newest = Math.max(...readdirSync(SRC).map((f) => statSync(join(SRC, f)).mtimeMs));
  if (newest > statSync(BIN).mtimeMs + 1_000)
    throw new Error('packages/cli/dist is older than src: rebuild (turbo run build --filter=@keyturn/cli)');
  server = dynalite({ createTableMs: 0 }) as Server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  client?.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built executable (its shebang finds `node` on PATH), with the SDK's credentials in its environment. */
function keyturn(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      BIN,
      args,
      {
        cwd,
        env: {
          PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...CREDENTIALS,
          ...env,
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
    child.stdin?.end('');
  });
}

async function newTable(): Promise<string> {
  const table = `keyturn-cli-${++tables}`;
  await client.send(new CreateTableCommand(tableDefinition(table)));
  return table;
}

async function workdir(env: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-cli-ddb-'));
  await writeFile(join(dir, 'app.env'), env, { mode: 0o600 });
  return dir;
}

interface Container {
  fleet: DynamoDbFleet;
  verifier: Verifier;
  notices: string[];
  /** One invocation: a delivery signed with `secret` at `at`, then the flush the Lambda adapter does. */
  deliver(secret: string, at: number, id?: string): Promise<string>;
  close(): Promise<void>;
}

/** A Lambda container of the receiver: the key file, the fleet on `table`, its own clock. */
function container(dir: string, table: string, secretId = 'DS'): Container {
  let clock = Date.now();
  const notices: string[] = [];
  const fleet = dynamodbFleet({ client, table, now: () => clock });
  const verifier = createVerifier({
    provider: profile,
    keys: envFileKeyStore({ path: join(dir, 'app.env') }),
    secretId,
    fleet,
    now: () => clock,
    // A key the container does not hold is not looked up on a miss for an hour: only the marker makes it reload.
    cache: { refreshCooldownMs: 3_600_000 },
    onEvent: (e) => void (e.type === 'fleet-notice' ? notices.push(e.notice) : undefined),
  });
  let n = 0;
  return {
    fleet,
    verifier,
    notices,
    async deliver(secret, at, id = `evt_${at}_${n++}`) {
      clock = at;
      const body = JSON.stringify({ id, type: 'check.completed' });
      const headers = sign(profile, { body, secret, timestamp: Math.floor(at / 1000) });
      const outcome = await verifier.verify({ body, headers }).then(
        (r) => r.keyRole,
        (e: { code: string }) => e.code,
      );
      await fleet.flush();
      return outcome;
    },
    async close() {
      await verifier.dispose();
      await fleet.close();
    },
  };
}

const ddbFlags = (table: string) => ['--dynamodb-table', table, '--dynamodb-endpoint', endpoint];

describe('keyturn status --dynamodb-table (the fleet verdict from the ledger)', () => {
  it('"no" (exit 3 with --check) while the previous key matched within the quiet period in any container, "yes" (exit 0) once quiet; no store flags needed', async () => {
    const table = await newTable();
    const dir = await workdir(`DS=${NEW}\nDS_PREVIOUS=${OLD}\n`);
    const [a, b] = [container(dir, table), container(dir, table)];
    const now = Date.now();
    // Container b still got an old-key delivery 5 minutes ago (Dataspike's quiet period is 15 minutes).
    expect(await a.deliver(NEW, now - 20 * 60_000)).toBe('active');
    expect(await b.deliver(OLD, now - 5 * 60_000)).toBe('previous');
    expect(await a.deliver(NEW, now - 2 * 60_000)).toBe('active');
    const args = ['status', ...ddbFlags(table), '--secret-id', 'DS', '--provider', 'dataspike'];
    const no = await keyturn([...args, '--check'], dir);
    expect(no.code, no.stderr).toBe(3);
    expect(no.stdout).toMatch(/DS: previous key safe to retire: no/);
    // The same ledger, a 1-minute quiet period: the old key has been quiet for 5.
    const yes = await keyturn(['status', ...ddbFlags(table), '--secret-id', 'DS', '--quiet', '1m', '--check'], dir);
    expect(yes.code, yes.stdout + yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(/DS: previous key safe to retire: yes/);
    // With the store as well (roles and windows from it), and as JSON: both containers' counts, summed.
    const json = await keyturn([...args, '--store-file', 'app.env', '--json'], dir);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { usageKnown: boolean; instances: string[]; rows: { keyRole: string; matches: number }[] };
    expect(report.usageKnown).toBe(true);
    expect(report.instances).toHaveLength(2);
    expect(report.rows.map((r) => [r.keyRole, r.matches]).sort()).toEqual([
      ['active', 2],
      ['previous', 1],
    ]);
    for (const r of [no, yes, json]) expect(`${r.stdout}${r.stderr}`).not.toMatch(/0123456789abcdef|fedcba9876543210/);
    await Promise.all([a.close(), b.close()]);
  }, 60_000);

  it('a table that cannot be read exits 35 naming it; --dynamodb-* flags without --dynamodb-table are usage errors (exit 2)', async () => {
    const dir = await workdir(`DS=${NEW}\n`);
    const missing = await keyturn(['status', ...ddbFlags('no-such-table'), '--secret-id', 'DS', '--check'], dir);
    expect(missing.code, missing.stderr).toBe(35);
    expect(missing.stderr).toContain('--dynamodb-table no-such-table: cannot be read');
    const stray = await keyturn(['status', '--store-file', 'app.env', '--secret-id', 'DS', '--dynamodb-endpoint', endpoint], dir);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--dynamodb-endpoint goes with --dynamodb-table');
    const help = await keyturn(['status', '--help'], dir);
    expect(help.stdout).toContain('Fleet on DynamoDB');
    expect(help.stdout).toContain('--dynamodb-table TABLE');
  }, 60_000);
});

describe('the key-change marker, bumped by the CLI', () => {
  it('keys add --dynamodb-table: a container that polls reloads and accepts the new key', async () => {
    const table = await newTable();
    const dir = await workdir(`DS=${OLD}\n`);
    await writeFile(join(dir, 'new-secret'), `${NEW}\n`, { mode: 0o600 });
    const c = container(dir, table);
    expect(await c.deliver(OLD, Date.now())).toBe('active');
    await c.fleet.poll(); // the baseline marker
    // Without the marker, the new key is unknown to the container (no refresh on a miss for an hour).
    expect(await c.deliver(NEW, Date.now())).toBe('NO_MATCHING_KEY');
    const added = await keyturn(
      ['keys', 'add', '--store-file', 'app.env', '--secret-id', 'DS', '--secret-file', 'new-secret', ...ddbFlags(table)],
      dir,
    );
    expect(added.code, added.stderr).toBe(0);
    await c.fleet.poll();
    await expect.poll(() => c.notices).toContain('key-changed');
    await expect.poll(() => c.deliver(NEW, Date.now())).toBe('active');
    await c.close();
  }, 60_000);

  it('keys retire --dynamodb-table: refused (exit 3) while the ledger shows the old key in use; once quiet it retires and containers drop the old key', async () => {
    const table = await newTable();
    const dir = await workdir(`DS=${NEW}\nDS_PREVIOUS=${OLD}\n`);
    const c = container(dir, table);
    expect(await c.deliver(OLD, Date.now() - 60_000)).toBe('previous');
    expect(await c.deliver(NEW, Date.now() - 50_000)).toBe('active');
    await c.fleet.poll();
    const refused = await keyturn(
      ['keys', 'retire', '--store-file', 'app.env', '--secret-id', 'DS', '--provider', 'dataspike', ...ddbFlags(table)],
      dir,
    );
    expect(refused.code, refused.stderr).toBe(3);
    expect(parseEnv(await readFile(join(dir, 'app.env'), 'utf8'))).toMatchObject({ DS_PREVIOUS: OLD });
    const retired = await keyturn(
      ['keys', 'retire', '--store-file', 'app.env', '--secret-id', 'DS', '--quiet', '30s', ...ddbFlags(table)],
      dir,
    );
    expect(retired.code, retired.stderr).toBe(0);
    expect(retired.stdout).toContain('DS: retired');
    expect(parseEnv(await readFile(join(dir, 'app.env'), 'utf8'))['DS_PREVIOUS']).toBeUndefined();
    await c.fleet.poll();
    await expect.poll(() => c.notices).toContain('key-changed');
    await expect.poll(() => c.deliver(OLD, Date.now())).toBe('NO_MATCHING_KEY');
    await c.close();
  }, 60_000);

  it('rotate dataspike --dynamodb-table: the fence stands from before the rotate call; the printed recovery command carries the table and ends it with the key change', async () => {
    const table = await newTable();
    // A file-reference entry the env-file store cannot rewrite: the store write fails after Dataspike rotated.
    const dir = await workdir('DS_FILE=old.secret\n');
    await writeFile(join(dir, 'old.secret'), OLD);
    const ds = await startDataspikeTestServer({ apiKey: 'k-123', webhooks: { [WEBHOOK]: OLD } });
    const c = container(dir, table);
    try {
      expect(await c.deliver(OLD, Date.now())).toBe('active');
      await c.fleet.poll();
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
          '--recovery-file',
          'rec.secret',
          ...ddbFlags(table),
        ],
        dir,
        { DATASPIKE_API_KEY: 'k-123' },
      );
      expect(r.code, r.stderr).toBe(30);
      const secret = ds.currentSecret(WEBHOOK);
      // The container hears the fence: a delivery signed with the new secret is retried (503), never a 401.
      await c.fleet.poll();
      await expect.poll(() => c.notices).toContain('rotation-started');
      expect(await c.deliver(secret, Date.now())).toBe('KEY_ROTATION_IN_PROGRESS');
      const recovery = /Finish with:\n {2}(keyturn keys add .*)\n/.exec(r.stderr)?.[1];
      expect(recovery).toContain(`--dynamodb-table ${table} --dynamodb-endpoint ${endpoint}`);
      await writeFile(join(dir, 'app.env'), `DS=${OLD}\n`, { mode: 0o600 });
      const args = recovery!.split(' ').slice(1); // no quoting needed in these paths
      const finished = await keyturn(args, dir);
      expect(finished.code, finished.stderr).toBe(0);
      await c.fleet.poll();
      await expect.poll(() => c.notices).toContain('key-changed');
      await expect.poll(() => c.deliver(secret, Date.now())).toBe('active');
      expect(`${r.stdout}${r.stderr}${finished.stdout}${finished.stderr}`).not.toContain(secret.slice(6));
    } finally {
      await c.close();
      await ds.close();
    }
  }, 60_000);
});
