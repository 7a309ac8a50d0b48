/**
 * Environment variables → key roles and windows (shared by `envKeyStore` and the env-file store):
 * `X` active, `X_PENDING` pending, `X_PREVIOUS` previous, their `*_NOT_BEFORE` / `*_NOT_AFTER`
 * windows (one instant parser: epoch ms or ISO-8601 with a zone), `*_FILE` secrets and `*_KEY_ID` names.
 *
 * @internal
 * @module
 */
import type { KeyRole, SecretVersion } from '@keyturn/core';
import { parseInstant, sameSecret } from '@keyturn/core/store-kit';
import { envError } from './errors.ts';
import { defaultWarning, derivedKeyId, warnIfGuessable, type EnvSecretWarning } from './key-ids.ts';

/** Options of {@link readEnvVersions}. */
export interface ReadEnvOptions {
  /** Store name for errors (`env`, `env-file`). @default 'env' */
  readonly store?: string | undefined;
  /** Where low-entropy warnings go, once per key. @default process.emitWarning */
  readonly onWarning?: ((warning: EnvSecretWarning) => void) | undefined;
}

/** A valid variable name. */
export const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const KEY_ID_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const ROLES: readonly { role: KeyRole; suffix: string }[] = [
  { role: 'active', suffix: '' },
  { role: 'pending', suffix: '_PENDING' },
  { role: 'previous', suffix: '_PREVIOUS' },
];

type Terminal = (secretId: string, code: string, message: string) => Error;

/**
 * Reads the versions of `secretId` from a variable map (shared by `envKeyStore` and the env-file store).
 * `readSecretFile` loads a `*_FILE` path.
 */
export async function readEnvVersions(
  env: Readonly<Record<string, string | undefined>>,
  secretId: string,
  readSecretFile: (variable: string, path: string) => Promise<Uint8Array>,
  options: ReadEnvOptions = {},
): Promise<SecretVersion[]> {
  const store = options.store ?? 'env';
  const terminal = (id: string, code: string, message: string) => envError(store, id, code, message.replace(/^env:/, `${store}:`));
  if (!NAME.test(secretId)) {
    throw terminal(secretId, 'INVALID_NAME', `env: "${secretId}" is not a valid environment variable name`);
  }
  const found: { version: Omit<SecretVersion, 'id'>; source: string; explicitId: string | undefined; idVariable: string }[] = [];
  for (const { role, suffix } of ROLES) {
    const variable = secretId + suffix;
    const direct = env[variable];
    const filePath = env[`${variable}_FILE`];
    const idVariable = `${variable}_KEY_ID`;
    if (direct !== undefined && filePath !== undefined) {
      throw terminal(secretId, 'AMBIGUOUS', `env: both ${variable} and ${variable}_FILE are set; keep one`);
    }
    let secret: string | Uint8Array;
    let source: string;
    if (direct !== undefined) {
      secret = direct;
      source = variable;
    } else if (filePath !== undefined) {
      if (filePath.length === 0) throw terminal(secretId, 'EMPTY_VALUE', `env: ${variable}_FILE is empty`);
      const bytes = await readSecretFile(`${variable}_FILE`, filePath);
      secret = textOrBytes(bytes);
      source = `${variable}_FILE`;
    } else {
      if (role === 'active') {
        throw terminal(secretId, 'NOT_FOUND', `env: ${secretId} (or ${secretId}_FILE) is not set`);
      }
      for (const edge of ['_NOT_BEFORE', '_NOT_AFTER', '_KEY_ID']) {
        if (env[variable + edge] !== undefined) {
          throw terminal(
            secretId,
            edge === '_KEY_ID' ? 'INVALID_CONFIG' : 'ORPHAN_WINDOW',
            `env: ${variable}${edge} is set but ${variable} is not`,
          );
        }
      }
      continue;
    }
    checkValue(terminal, secretId, source, secret);
    const notBefore = parseDate(terminal, env, `${variable}_NOT_BEFORE`, secretId);
    const notAfter = parseDate(terminal, env, `${variable}_NOT_AFTER`, secretId);
    if (notBefore !== undefined && notAfter !== undefined && notAfter < notBefore) {
      throw terminal(secretId, 'INVALID_WINDOW', `env: ${variable}_NOT_AFTER is before ${variable}_NOT_BEFORE`);
    }
    const explicitId = env[idVariable];
    if (explicitId !== undefined && !KEY_ID_VALUE.test(explicitId)) {
      throw terminal(
        secretId,
        'INVALID_CONFIG',
        `env: ${idVariable} must be 1 to 64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
      );
    }
    if (found.some((f) => sameSecret(f.version.secret, secret))) continue; // identical values collapse into the more privileged role
    found.push({ version: { secret, role, notBefore, notAfter }, source, explicitId, idVariable });
  }
  // Explicit ids: all of a secret's keys or none. A rotation that moved a secret but not its id (X to
  // X_PREVIOUS, X_KEY_ID left behind) would otherwise give the new key the old key's id and usage counts.
  const named = found.filter((f) => f.explicitId !== undefined);
  if (named.length > 0 && named.length < found.length) {
    const unnamed = found.find((f) => f.explicitId === undefined) as (typeof found)[number];
    throw terminal(
      secretId,
      'INVALID_CONFIG',
      `env: ${named[0]!.idVariable} is set but ${unnamed.source} has no ${unnamed.idVariable}: name every key of ${secretId} or none (a rotation moves ${secretId}_KEY_ID to ${secretId}_PREVIOUS_KEY_ID with the secret)`,
    );
  }
  const versions: SecretVersion[] = [];
  for (const f of found) {
    // Derived ids follow the secret, not the variable: a key keeps its id (and its usage counts) when a
    // rotation moves it from X to X_PREVIOUS.
    const id = `${secretId}@${f.explicitId ?? (await derivedKeyId(secretId, f.version.secret))}`;
    if (versions.some((v) => v.id === id)) {
      throw terminal(
        secretId,
        'INVALID_CONFIG',
        `env: two keys of ${secretId} are named ${id}; every key needs its own ${secretId}*_KEY_ID`,
      );
    }
    versions.push({ id, ...f.version });
    warnIfGuessable(options.onWarning ?? defaultWarning, secretId, f.source, id, f.version.secret);
  }
  return versions;
}

function checkValue(terminal: Terminal, secretId: string, source: string, secret: string | Uint8Array): void {
  const text = typeof secret === 'string' ? secret : undefined;
  if ((text ?? secret).length === 0) throw terminal(secretId, 'EMPTY_VALUE', `env: ${source} is empty`);
  if (text !== undefined && (/^\s/.test(text) || /\s$/.test(text))) {
    throw terminal(
      secretId,
      'WHITESPACE',
      `env: ${source} has leading or trailing whitespace; keyturn never trims secrets${source.endsWith('_FILE') ? ' (by default one final newline is dropped from a file; nothing else is)' : ''}`,
    );
  }
}

function parseDate(
  terminal: Terminal,
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
  secretId: string,
): number | undefined {
  const raw = env[variable];
  if (raw === undefined) return undefined;
  const t = parseInstant(raw);
  if (t !== undefined) return t;
  throw terminal(
    secretId,
    'INVALID_DATE',
    `env: ${variable} is not an ISO-8601 date-time with a zone (2026-12-01T00:00:00Z) or epoch milliseconds`,
  );
}

function textOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
}
