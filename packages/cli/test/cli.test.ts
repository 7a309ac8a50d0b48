import { createHmac } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { providers, sign, VERIFICATION_ERROR_CODES } from '@keyturn/core';
import { startDataspikeTestServer } from '@keyturn/rotation/testing';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/index.ts';

const T = Date.parse('2026-11-24T12:00:00Z');
const OLD = `whsec_${'0123456789abcdef'.repeat(4)}`;
const NEW = `whsec_${'fedcba9876543210'.repeat(4)}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function workdir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'keyturn-cli-'));
}

function io(
  cwd: string,
  options: { env?: Record<string, string>; stdin?: string | Uint8Array; now?: number } = {},
): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () =>
      typeof options.stdin === 'string' ? new TextEncoder().encode(options.stdin) : (options.stdin ?? new Uint8Array()),
    env: options.env ?? {},
    cwd,
    now: () => options.now ?? T,
  };
}

async function run(argv: string[], cwd: string, options: Parameters<typeof io>[1] = {}): Promise<Run> {
  const i = io(cwd, options);
  const code = await main(argv, i);
  return { code, stdout: i.out.join(''), stderr: i.err.join('') };
}

describe('keyturn help', () => {
  const commands = ['sign', 'verify', 'keys list', 'keys add', 'keys retire', 'rotate dataspike', 'challenge smartcar', 'status'];

  it('lists every command, and every command has --help', async () => {
    const dir = await workdir();
    const top = await run(['--help'], dir);
    expect(top.code).toBe(0);
    for (const c of commands) expect(top.stdout).toContain(c);
    for (const c of commands) {
      const r = await run([...c.split(' '), '--help'], dir);
      expect(r.code, c).toBe(0);
      expect(r.stdout).toContain(`keyturn ${c}`);
    }
    expect((await run(['help', 'rotate', 'dataspike'], dir)).stdout).toContain('--recovery-file');
  });

  it('usage errors exit 2 with a clear message', async () => {
    const dir = await workdir();
    expect((await run([], dir)).code).toBe(2);
    expect(await run(['frobnicate'], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
    expect(await run(['keys'], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining('list, add, retire') });
    expect(await run(['sign', '--provider', 'dataspike', '--secret', 'x'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--secret'"),
    });
    expect(await run(['sign', '--provider', 'dataspike'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('never taken from the command line'),
    });
    expect(
      await run(['keys', 'add', '--store-file', 'a.env', '--secret-id', 'X', '--secret-env', 'S', '--grace', 'soon'], dir, {
        env: { S: 'v' },
      }),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('not a duration'),
    });
  });
});

describe('keyturn sign / verify', () => {
  it('round-trips, and every rejection has its own exit code and message', async () => {
    const dir = await workdir();
    const env = { DS_SECRET: OLD };
    const body = '{"id":"evt_1","event_type":"AML_SCREENING"}';
    const signed = await run(['sign', '--provider', 'dataspike', '--secret-env', 'DS_SECRET'], dir, { env, stdin: body });
    expect(signed.code).toBe(0);
    const line = signed.stdout.trim();
    expect(line).toMatch(/^x-webhook-signature: t=\d+,v1=[0-9a-f]{64}$/);
    // Cross-check with an independent HMAC over "{t}.{body}" keyed by the hex-decoded secret.
    const t = Math.floor(T / 1000);
    const expected = createHmac('sha256', Buffer.from(OLD.slice(6), 'hex'))
      .update(`${t}.${body}`)
      .digest('hex');
    expect(line).toBe(`x-webhook-signature: t=${t},v1=${expected}`);

    const ok = await run(['verify', '--provider', 'dataspike', '--secret-env', 'DS_SECRET', '-H', line], dir, { env, stdin: body });
    expect(ok).toMatchObject({ code: 0, stdout: 'verified: key active (active) for default\n' });

    const cases: [string, string[], string, number][] = [
      ['NO_MATCHING_KEY', ['-H', line], `${body} `, 14],
      ['MISSING_SIGNATURE', [], body, 10],
      ['MALFORMED_SIGNATURE', ['-H', 'X-Webhook-Signature: t=1,v1=zz'], body, 11],
      ['TIMESTAMP_TOO_OLD', ['-H', line, '--now', String(T + 3_600_000)], body, 12],
    ];
    for (const [code, extra, b, exit] of cases) {
      const r = await run(['verify', '--provider', 'dataspike', '--secret-env', 'DS_SECRET', ...extra], dir, { env, stdin: b });
      expect(r.code, code).toBe(exit);
      expect(r.stderr).toContain(`rejected: ${code}`);
      expect(r.stderr).not.toContain(expected);
      expect(r.stderr).not.toContain(OLD.slice(6));
    }
    const json = await run(['verify', '--json', '--provider', 'dataspike', '--secret-env', 'DS_SECRET'], dir, { env, stdin: body });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'MISSING_SIGNATURE' } });
  });

  it('exit codes follow VERIFICATION_ERROR_CODES (10 + index)', () => {
    expect(VERIFICATION_ERROR_CODES.slice(0, 6)).toEqual([
      'MISSING_SIGNATURE',
      'MALFORMED_SIGNATURE',
      'TIMESTAMP_TOO_OLD',
      'TIMESTAMP_IN_FUTURE',
      'NO_MATCHING_KEY',
      'KEY_EXPIRED',
    ]);
  });

  it('verifies against an env-file store and reports the previous key, then KEY_EXPIRED after its window', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), `DS=${NEW}\nDS_PREVIOUS=${OLD}\nDS_PREVIOUS_NOT_AFTER=${new Date(T + 60_000).toISOString()}\n`);
    const body = '{"id":"e"}';
    const old = Object.entries(sign(providers.dataspike(), { body, secret: OLD, timestamp: Math.floor(T / 1000) })).map(
      ([k, v]) => `${k}: ${v}`,
    );
    const r = await run(['verify', '--provider', 'dataspike', '--store-file', 'app.env', '--secret-id', 'DS', '-H', old[0]!], dir, {
      stdin: body,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verified: key DS@[0-9a-f]{8} \(previous\) for DS\n$/);
    const later = T + 120_000;
    const old2 = Object.entries(sign(providers.dataspike(), { body, secret: OLD, timestamp: Math.floor(later / 1000) })).map(
      ([k, v]) => `${k}: ${v}`,
    );
    const expired = await run(
      ['verify', '--provider', 'dataspike', '--store-file', 'app.env', '--secret-id', 'DS', '-H', old2[0]!, '--now', String(later)],
      dir,
      { stdin: body },
    );
    expect(expired.code).toBe(15);
    expect(expired.stderr).toContain('KEY_EXPIRED');
  });
});

describe('keyturn keys / status on an env-file store', () => {
  it('add, list, status with usage, retire only when safe', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), `# smartcar\nSC_AMT=old-token-1111\n`, { mode: 0o600 });
    await writeFile(join(dir, 'new-token'), 'new-token-2222\n');
    const store = ['--store-file', 'app.env', '--secret-id', 'SC_AMT'];

    const added = await run(['keys', 'add', ...store, '--secret-file', 'new-token', '--grace', '2h'], dir);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('until 2026-11-24T14:00:00Z');
    expect(`${added.stdout}${added.stderr}`).not.toContain('new-token-2222');
    expect(parseEnv(await readFile(join(dir, 'app.env'), 'utf8'))).toMatchObject({
      SC_AMT: 'new-token-2222',
      SC_AMT_PREVIOUS: 'old-token-1111',
    });
    const again = await run(['keys', 'add', ...store, '--secret-file', 'new-token'], dir);
    expect(again.stdout).toContain('already active');

    const listed = await run(['keys', 'list', ...store, '--json'], dir);
    const keys = JSON.parse(listed.stdout).keys as { id: string; role: string; notAfter?: number }[];
    expect(keys.map((k) => k.role)).toEqual(['active', 'previous']);
    expect(listed.stdout).not.toContain('token-');
    const [active, previous] = keys as unknown as [{ id: string }, { id: string }];
    const table = await run(['keys', 'list', ...store], dir);
    expect(table.stdout.split('\n')[0]).toMatch(/^KEY ID\s+ROLE\s+NOT BEFORE\s+NOT AFTER\s+VERIFIES NOW$/);

    // Usage from two instances: one still saw the old token 10 min ago.
    const snap = (instance: string, prevAgoMs: number) => ({
      version: 1,
      instances: [instance],
      since: T - 3 * 3_600_000,
      takenAt: T,
      keys: [
        { secretId: 'SC_AMT', keyId: active.id, keyRole: 'active', matches: 4, lastMatchedAt: T - 60_000, lastSeenAt: T },
        { secretId: 'SC_AMT', keyId: previous.id, keyRole: 'previous', matches: 2, lastMatchedAt: T - prevAgoMs, lastSeenAt: T },
      ],
    });
    await writeFile(join(dir, 'a.json'), JSON.stringify(snap('a', 2 * 3_600_000)));
    await writeFile(join(dir, 'b.json'), JSON.stringify(snap('b', 10 * 60_000)));
    const status = await run(['status', ...store, '--usage', 'a.json', '--usage', 'b.json', '--provider', 'smartcar', '--check'], dir);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('SC_AMT: previous key safe to retire: no (last matched 10 min ago)');
    expect(status.stdout).toMatch(new RegExp(`${previous.id}\\s+previous\\s+\\S+ … 2026-11-24T14:00:00Z\\s+4\\s+10 min ago`));

    const refused = await run(['keys', 'retire', ...store, '--usage', 'a.json', '--usage', 'b.json', '--provider', 'smartcar'], dir);
    expect(refused).toMatchObject({ code: 3, stderr: expect.stringContaining('NOT_SAFE_TO_RETIRE') });
    expect((await run(['keys', 'retire', ...store], dir)).code).toBe(2);

    const quiet = await run(['status', ...store, '--usage', 'a.json', '--provider', 'smartcar', '--check', '--json'], dir);
    expect(quiet.code).toBe(0);
    expect(JSON.parse(quiet.stdout).verdicts[0]).toMatchObject({ safe: true, reason: 'quiet' });
    const retired = await run(['keys', 'retire', ...store, '--usage', 'a.json', '--provider', 'smartcar', '--key-id', previous.id], dir);
    expect(retired).toMatchObject({ code: 0, stdout: `SC_AMT: retired ${previous.id}\n` });
    expect(await readFile(join(dir, 'app.env'), 'utf8')).toBe('# smartcar\nSC_AMT=new-token-2222\n');

    const noUsage = await run(['status', ...store], dir);
    expect(noUsage.stdout).toContain('there is no previous key');
  });
});

describe('keyturn challenge smartcar', () => {
  it('answers VERIFY with the active token, from a flag, a payload file or the store', async () => {
    const dir = await workdir();
    const expected = createHmac('sha256', 'amt-token-1').update('chal-123').digest('hex');
    const a = await run(['challenge', 'smartcar', '--challenge', 'chal-123', '--secret-env', 'AMT'], dir, { env: { AMT: 'amt-token-1' } });
    expect(a).toMatchObject({ code: 0, stdout: `{"challenge":"${expected}"}\n` });
    await writeFile(join(dir, 'app.env'), 'SC=amt-token-1\n');
    const payload = JSON.stringify({ version: '2.0', webhookId: 'w', eventName: 'verify', payload: { challenge: 'chal-123' } });
    const b = await run(['challenge', 'smartcar', '--store-file', 'app.env', '--secret-id', 'SC'], dir, { stdin: payload });
    expect(b.stdout).toBe(`{"challenge":"${expected}"}\n`);
    const c = await run(['challenge', 'smartcar', '--secret-env', 'AMT'], dir, {
      env: { AMT: 'x' },
      stdin: '{"eventType":"VEHICLE_STATE"}',
    });
    expect(c).toMatchObject({ code: 2, stderr: expect.stringContaining('not a Smartcar VERIFY challenge') });
  });
});

describe('keyturn rotate dataspike', () => {
  const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';

  it('rotates, writes the store, removes the recovery file, never prints the secret', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), `DS=${OLD}\n`, { mode: 0o600 });
    const ds = await startDataspikeTestServer({ apiKey: 'k-123', webhooks: { [WEBHOOK]: OLD } });
    try {
      const r = await run(
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
        dir,
        {
          env: { DATASPIKE_API_KEY: 'k-123' },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const secret = ds.currentSecret(WEBHOOK);
      expect(parseEnv(await readFile(join(dir, 'app.env'), 'utf8'))).toEqual({
        DS: secret,
        DS_PREVIOUS: OLD,
        DS_PREVIOUS_NOT_AFTER: '2026-11-24T13:00:00.000Z',
      });
      expect(`${r.stdout}${r.stderr}`).not.toContain(secret.slice(6));
      expect(r.stderr).toContain('… calling Dataspike rotate');
      expect(r.stdout).toContain('stays accepted until 2026-11-24T13:00:00Z');
      expect(await readdir(dir)).toEqual(['app.env']);
    } finally {
      await ds.close();
    }
  });

  it('when the store write fails: exit 30, a 0600 recovery file, and a printed command that finishes the job', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'old.secret'), OLD);
    await writeFile(join(dir, 'app.env'), 'DS_FILE=old.secret\n', { mode: 0o600 });
    await writeFile(join(dir, 'api-key'), 'k-123\n');
    const ds = await startDataspikeTestServer({ apiKey: 'k-123', webhooks: { [WEBHOOK]: OLD } });
    try {
      const r = await run(
        [
          'rotate',
          'dataspike',
          '--webhook-id',
          WEBHOOK,
          '--base-url',
          ds.url,
          '--api-key-file',
          'api-key',
          '--store-file',
          'app.env',
          '--secret-id',
          'DS',
          '--recovery-file',
          'ds.recovery',
        ],
        dir,
      );
      expect(r.code).toBe(30);
      const secret = ds.currentSecret(WEBHOOK);
      expect(`${r.stdout}${r.stderr}`).not.toContain(secret.slice(6));
      const path = join(dir, 'ds.recovery');
      expect(r.stderr).toContain(`The new secret is saved in ${path} (mode 0600)`);
      expect(await readFile(path, 'utf8')).toBe(secret);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const command = /Finish with:\n {2}(.+)\n/.exec(r.stderr)?.[1];
      expect(command).toBe(`keyturn keys add --store-file ${join(dir, 'app.env')} --secret-id DS --secret-file ${path} --grace 86400000ms`);
      // The operator fixes the store (the secret was in a *_FILE) and runs the printed command.
      await writeFile(join(dir, 'app.env'), `DS=${OLD}\n`);
      const finish = await run(command!.split(' ').slice(1), dir);
      expect(finish.code, finish.stderr).toBe(0);
      expect(parseEnv(await readFile(join(dir, 'app.env'), 'utf8'))).toMatchObject({ DS: secret, DS_PREVIOUS: OLD });
    } finally {
      await ds.close();
    }
  });

  it('refuses an existing recovery file before rotating anything', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), `DS=${OLD}\n`);
    await writeFile(join(dir, 'taken.secret'), 'something else');
    const ds = await startDataspikeTestServer({ apiKey: 'k-123', webhooks: { [WEBHOOK]: OLD } });
    try {
      const r = await run(
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
          '--recovery-file',
          'taken.secret',
        ],
        dir,
        {
          env: { DATASPIKE_API_KEY: 'k-123' },
        },
      );
      expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining('already exists') });
      expect(ds.calls).toHaveLength(0);
    } finally {
      await ds.close();
    }
  });

  it('a refused API key: exit 31 and nothing changed', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), `DS=${OLD}\n`);
    const ds = await startDataspikeTestServer({ apiKey: 'k-123', webhooks: { [WEBHOOK]: OLD } });
    try {
      const r = await run(
        ['rotate', 'dataspike', '--webhook-id', WEBHOOK, '--base-url', ds.url, '--store-file', 'app.env', '--secret-id', 'DS'],
        dir,
        {
          env: { DATASPIKE_API_KEY: 'bad-key-987' },
        },
      );
      expect(r.code).toBe(31);
      expect(r.stderr).toContain('the API key was refused (HTTP 401)');
      expect(r.stderr).not.toContain('bad-key-987');
      expect(await readdir(dir)).toEqual(['app.env']);
    } finally {
      await ds.close();
    }
  });
});

describe('a previous key with no window end is never silent', () => {
  it('keys list / status warn; keys add says it too when the key is already active', async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), 'SC=new-token-2\nSC_PREVIOUS=old-token-1\n', { mode: 0o600 });
    await writeFile(join(dir, 'new-token'), 'new-token-2\n');
    const store = ['--store-file', 'app.env', '--secret-id', 'SC'];
    const listed = await run(['keys', 'list', ...store], dir);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(
      /warning: the previous key SC@[0-9a-f]{8} of SC has no window end: it stays accepted until you retire it \(`keyturn keys retire --store-file \S+ --secret-id SC --key-id SC@[0-9a-f]{8} …`/,
    );
    const status = await run(['status', ...store], dir);
    expect(status.stderr).toContain('has no window end');
    const added = await run(['keys', 'add', ...store, '--secret-file', 'new-token'], dir);
    expect(added.stdout).toContain('already active');
    expect(added.stderr).toMatch(/warning: the previous key SC@[0-9a-f]{8} has no window end/);
    const json = await run(['keys', 'add', ...store, '--secret-file', 'new-token', '--json'], dir);
    expect(JSON.parse(json.stdout)).toMatchObject({ previousUnbounded: true });
    // A bounded window: no warning.
    await writeFile(join(dir, 'app.env'), 'SC=new-token-2\nSC_PREVIOUS=old-token-1\nSC_PREVIOUS_NOT_AFTER=2026-12-01T00:00:00Z\n', {
      mode: 0o600,
    });
    expect((await run(['keys', 'list', ...store], dir)).stderr).not.toContain('warning');
  });

  it("the env file's loose mode is a warning on stderr", async () => {
    const dir = await workdir();
    await writeFile(join(dir, 'app.env'), 'SC=tok\n', { mode: 0o644 });
    await chmod(join(dir, 'app.env'), 0o644);
    const r = await run(['keys', 'list', '--store-file', 'app.env', '--secret-id', 'SC'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `warning: env-file: ${join(dir, 'app.env')} holds webhook secrets but its mode 0644 lets group and others access it`,
    );
  });
});
