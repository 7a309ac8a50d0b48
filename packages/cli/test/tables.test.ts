/**
 * The CLI from tables: every store row's flags parse and appear in every store command's help; the
 * exit codes and the provider list in the help come from the same tables as the code; one store needs
 * no per-store logic outside its row (the azure row: its flags, its usage errors).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERIFICATION_ERROR_CODES } from '@keyturn/core';
import { ROTATION_ERROR_CODES } from '@keyturn/rotation';
import { describe, expect, it } from 'vitest';
import { PROVIDER_NAMES } from '../src/commands.ts';
import { EXIT, EXIT_TABLE, exitCodeHelp, rotationExitCode, verificationExitCode } from '../src/exit.ts';
import { main, type CliIo } from '../src/index.ts';
import { STORE_FLAGS, STORES } from '../src/stores.ts';

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = await mkdtemp(join(tmpdir(), 'keyturn-cli-tables-'));
  const io: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => new Uint8Array(),
    env,
    cwd,
    now: Date.now,
  };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const STORE_COMMANDS = ['verify', 'keys list', 'keys add', 'keys retire', 'rotate dataspike', 'challenge smartcar', 'status'];

describe('stores from one table', () => {
  it('every row is a --store value, and every row flag is in STORE_FLAGS and in the help of every store command', async () => {
    expect(STORES.map((s) => s.name)).toEqual(['env-file', 'aws', 'gcp', 'azure']);
    for (const command of STORE_COMMANDS) {
      const help = (await run([...command.split(' '), '--help'])).stdout;
      expect(help, command).toContain(`--store ${STORES.map((s) => s.name).join('|')}`);
      for (const row of STORES) {
        for (const flag of Object.keys(row.flags)) {
          expect(STORE_FLAGS[flag], flag).toBeDefined();
          expect(help, `${command} --${flag}`).toContain(`--${flag}`);
        }
      }
    }
  });

  it('an unknown store names the table; a missing --store says what to pass', async () => {
    const unknown = await run(['keys', 'list', '--store', 'vault', '--secret-id', 'x']);
    expect([unknown.code, unknown.stderr]).toEqual([
      EXIT.USAGE,
      expect.stringContaining('unknown store "vault" (env-file, aws, gcp, azure)'),
    ]);
    const none = await run(['keys', 'list', '--secret-id', 'x']);
    expect([none.code, none.stderr]).toEqual([EXIT.USAGE, expect.stringContaining('pass --store env-file|aws|gcp|azure')]);
  });

  it('the azure row: --azure-vault-url is required; a client-secret credential needs all three parts (the secret only from the environment)', async () => {
    const missing = await run(['keys', 'list', '--store', 'azure', '--secret-id', 'webhook']);
    expect([missing.code, missing.stderr]).toEqual([EXIT.USAGE, expect.stringContaining('--store azure needs --azure-vault-url URL')]);
    const partial = await run([
      'keys',
      'list',
      '--store',
      'azure',
      '--azure-vault-url',
      'https://v.vault.azure.net',
      '--azure-tenant-id',
      't',
      '--azure-client-id',
      'c',
      '--secret-id',
      'webhook',
    ]);
    expect([partial.code, partial.stderr]).toEqual([EXIT.USAGE, expect.stringContaining('AZURE_CLIENT_SECRET')]);
    const bad = await run(['keys', 'list', '--store', 'azure', '--azure-vault-url', 'http://not-https', '--secret-id', 'webhook']);
    expect(bad.code).not.toBe(EXIT.OK);
  });
});

describe('one exit-code table', () => {
  it('EXIT, the rotation mapping and the help all come from EXIT_TABLE', async () => {
    for (const row of EXIT_TABLE) expect(EXIT[row.name]).toBe(row.code);
    for (const code of ROTATION_ERROR_CODES)
      expect(
        EXIT_TABLE.some((r) => r.rotation?.includes(code)),
        code,
      ).toBe(true);
    expect(rotationExitCode('STORE_WRITE_FAILED')).toBe(30);
    expect(rotationExitCode('STORE_CANNOT_RETIRE')).toBe(33);
    const last = VERIFICATION_ERROR_CODES[VERIFICATION_ERROR_CODES.length - 1]!;
    const help = (await run(['--help'])).stdout;
    expect(help).toContain(exitCodeHelp());
    expect(help).toContain(`10-${verificationExitCode(last)} verification codes`);
    const verify = (await run(['verify', '--help'])).stdout.replace(/\s+/g, ' ');
    for (const code of VERIFICATION_ERROR_CODES) expect(verify).toContain(`${code} ${verificationExitCode(code)}`);
  });

  it('the provider list in the help is the --provider table', async () => {
    for (const command of ['sign', 'verify']) expect((await run([command, '--help'])).stdout).toContain(PROVIDER_NAMES);
  });
});
