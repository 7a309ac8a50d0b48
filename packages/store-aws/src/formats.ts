/**
 * Payload formats: how one Secrets Manager version's value becomes one or more keys.
 *
 * @module
 */
import type { KeyRole } from '@keyturn/core';
import { parseInstant, ROLE_ORDER } from '@keyturn/core/store-kit';

/**
 * How a version's value is read.
 *
 * - `'raw'` (default): the whole value is one key: `SecretString` as a string, `SecretBinary` as bytes.
 * - `{ jsonField: 'token' }`: `SecretString` is a JSON object; the key is the string at that field
 *   (an array is a path into nested objects: `{ jsonField: ['smartcar', 'amt'] }`).
 * - `'keyset'`: `SecretString` is a key-set document holding several keys with ids, roles and windows:
 *   `{"keys":[{"id":"amt-2026-11","secret":"…","role":"active","notBefore":"2026-11-01T00:00:00Z","notAfter":1767225600000}]}`.
 */
export type AwsSecretFormat = 'raw' | 'keyset' | AwsJsonFieldFormat;

/** The `{ jsonField }` form of {@link AwsSecretFormat}: the key is one string field of a JSON `SecretString`. */
export interface AwsJsonFieldFormat {
  /** The field's name, or a path into nested objects (`['smartcar', 'amt']`). */
  readonly jsonField: string | readonly string[];
}

/** One key read from a version's value. */
export interface ParsedKey {
  /** Key id inside a key-set document; `undefined` for single-key formats. */
  readonly keyId: string | undefined;
  readonly secret: string | Uint8Array;
  /** Role stated by a key-set document. */
  readonly role: KeyRole | undefined;
  readonly notBefore: number | undefined;
  readonly notAfter: number | undefined;
}

/** A secret-free description of why a value does not fit the format. */
export class FormatProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatProblem';
  }
}

const KEY_ID_RE = /^[A-Za-z0-9._~:@/+=-]{1,128}$/;

/** Checks a format option; throws a `TypeError` on a bad one. */
export function checkFormat(format: unknown): AwsSecretFormat {
  if (format === undefined) return 'raw';
  if (format === 'raw' || format === 'keyset') return format;
  if (format !== null && typeof format === 'object' && 'jsonField' in format) {
    const f = (format as { jsonField: unknown }).jsonField;
    const path = typeof f === 'string' ? [f] : f;
    if (Array.isArray(path) && path.length > 0 && path.every((p) => typeof p === 'string' && p.length > 0)) {
      return format as AwsSecretFormat;
    }
  }
  throw new TypeError("awsSecretsManagerStore(): `format` must be 'raw', 'keyset' or { jsonField: string | string[] }");
}

/**
 * Reads the keys of one version's value. Messages never quote the value (a JSON parse error
 * message would, so it is not passed on).
 */
export function parseValue(format: AwsSecretFormat, value: string | Uint8Array): ParsedKey[] {
  if (format === 'raw') {
    if (value.length === 0) throw new FormatProblem('the value is empty');
    return [{ keyId: undefined, secret: value, role: undefined, notBefore: undefined, notAfter: undefined }];
  }
  if (typeof value !== 'string') {
    throw new FormatProblem('the value is SecretBinary, but this format needs a JSON SecretString');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    throw new FormatProblem('the SecretString is not valid JSON');
  }
  if (format === 'keyset') return parseKeySet(doc);
  const path = typeof format.jsonField === 'string' ? [format.jsonField] : format.jsonField;
  let node: unknown = doc;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part)) {
      throw new FormatProblem(`the JSON document has no field ${JSON.stringify(path.join('.'))}`);
    }
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node !== 'string' || node.length === 0) {
    throw new FormatProblem(`the JSON field ${JSON.stringify(path.join('.'))} is not a non-empty string`);
  }
  return [{ keyId: undefined, secret: node, role: undefined, notBefore: undefined, notAfter: undefined }];
}

function parseKeySet(doc: unknown): ParsedKey[] {
  if (doc === null || typeof doc !== 'object' || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new FormatProblem('the key-set document has no "keys" array');
  }
  const keys = (doc as { keys: unknown[] }).keys;
  const out: ParsedKey[] = [];
  const ids = new Set<string>();
  keys.forEach((k, i) => {
    if (k === null || typeof k !== 'object' || Array.isArray(k)) throw new FormatProblem(`keys[${i}] is not an object`);
    const r = k as Record<string, unknown>;
    const id = r['id'];
    if (typeof id !== 'string' || !KEY_ID_RE.test(id)) {
      throw new FormatProblem(`keys[${i}].id must be 1-128 characters of letters, digits and ._~:@/+=-`);
    }
    if (ids.has(id)) throw new FormatProblem(`key id ${JSON.stringify(id)} appears twice`);
    ids.add(id);
    if (typeof r['secret'] !== 'string' || r['secret'].length === 0) {
      throw new FormatProblem(`key ${JSON.stringify(id)} has no non-empty string "secret"`);
    }
    const role = r['role'];
    if (role !== undefined && !ROLE_ORDER.includes(role as KeyRole)) {
      throw new FormatProblem(`key ${JSON.stringify(id)} has a role other than "active", "pending" or "previous"`);
    }
    const notBefore = instant(r['notBefore'], id, 'notBefore');
    const notAfter = instant(r['notAfter'], id, 'notAfter');
    if (notBefore !== undefined && notAfter !== undefined && notAfter < notBefore) {
      throw new FormatProblem(`key ${JSON.stringify(id)} has notAfter before notBefore`);
    }
    out.push({ keyId: id, secret: r['secret'], role: role as KeyRole | undefined, notBefore, notAfter });
  });
  if (out.length === 0) throw new FormatProblem('the key-set document holds no keys');
  return out;
}

function instant(v: unknown, id: string, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const t = parseInstant(v);
  if (t !== undefined) return t;
  throw new FormatProblem(
    `key ${JSON.stringify(id)} has a ${field} that is neither epoch ms nor an ISO-8601 date-time with a zone (2026-12-01T00:00:00Z)`,
  );
}

/** Serialises a key-set document (the write side of `rotate` in `'keyset'` format). */
export function formatKeySet(
  keys: readonly { id: string; secret: string; role: KeyRole; notBefore?: number | undefined; notAfter?: number | undefined }[],
): string {
  return JSON.stringify({
    keys: keys.map((k) => ({
      id: k.id,
      secret: k.secret,
      role: k.role,
      ...(k.notBefore !== undefined ? { notBefore: new Date(k.notBefore).toISOString() } : {}),
      ...(k.notAfter !== undefined ? { notAfter: new Date(k.notAfter).toISOString() } : {}),
    })),
  });
}
