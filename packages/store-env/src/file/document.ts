/**
 * The `.env` document reader and writer of the env-file store: `NAME=value` lines (optional `export `,
 * `'single'` or `"double"` quotes, `#` comments), parsed so that a rewrite changes only the lines it
 * must and keeps every other byte (non-UTF-8 bytes, a BOM, CRLF, a missing final newline).
 *
 * @internal
 * @module
 */
import type { KeyStoreError } from '@keyturn/core';
import { envError } from '../errors.ts';

const STORE = 'env-file';
const LINE = /^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;

/** How a line ended: LF, CRLF, a lone CR at the very end of the file, or nothing (the last line). */
type LineEnd = '\n' | '\r\n' | '\r' | '';

interface EnvLine {
  /** The line as text, without its line ending (lossily decoded when `body` is not UTF-8). */
  raw: string;
  /** The line's bytes exactly as read, without its line ending; `undefined` once rewritten. */
  body?: Uint8Array | undefined;
  /** How it ended in the file; `undefined` for a line keyturn added. */
  end?: LineEnd | undefined;
  /** Variable name, for assignment lines. */
  key?: string | undefined;
  /** Leading `export `, kept when the value is rewritten. */
  exportPrefix?: string | undefined;
}

/** A parsed `.env` file that remembers every line's bytes, so a rewrite changes only what it must. */
export class EnvDocument {
  constructor(
    readonly lines: EnvLine[],
    readonly values: Map<string, string>,
    /** The file ended with a line ending (or was empty). */
    readonly finalNewline: boolean,
    /** The file started with a UTF-8 byte order mark. */
    readonly bom: boolean,
    /** The ending of the file's last terminated line: what added lines get. */
    readonly ending: '\n' | '\r\n',
  ) {}

  clone(): EnvDocument {
    return new EnvDocument(
      this.lines.map((l) => ({ ...l })),
      new Map(this.values),
      this.finalNewline,
      this.bom,
      this.ending,
    );
  }

  set(key: string, value: string): void {
    const line = this.lines.find((l) => l.key === key);
    const raw = `${line?.exportPrefix ?? ''}${key}=${quote(value)}`;
    if (line !== undefined) {
      line.raw = raw;
      line.body = undefined;
    } else {
      // Keep a secret's variables together: insert after the last line of the same family.
      const family = key.replace(/_(PREVIOUS|PENDING)(_NOT_BEFORE|_NOT_AFTER|_FILE)?$|_(NOT_BEFORE|NOT_AFTER|FILE)$/, '');
      let at = -1;
      this.lines.forEach((l, i) => {
        if (l.key !== undefined && (l.key === family || l.key.startsWith(`${family}_`))) at = i;
      });
      const entry: EnvLine = { raw, key };
      if (at === -1) this.lines.push(entry);
      else this.lines.splice(at + 1, 0, entry);
    }
    this.values.set(key, value);
  }

  delete(key: string): void {
    const i = this.lines.findIndex((l) => l.key === key);
    if (i !== -1) this.lines.splice(i, 1);
    this.values.delete(key);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LOSSY = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Parses a `.env` file, keeping every line's bytes. Errors name the line, never its text (it may hold a
 * secret). A line of `secretId`'s family that is not UTF-8 is refused.
 */
export function parseEnvFile(input: Uint8Array, secretId: string): EnvDocument {
  const bom = input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf;
  const bytes = bom ? input.subarray(3) : input;
  const finalNewline = bytes.length === 0 || bytes[bytes.length - 1] === 0x0a;
  // Split on LF bytes: 0x0a never occurs inside a multi-byte UTF-8 sequence, so this is safe
  // whatever the encoding of a line.
  const segments: { body: Uint8Array; end: LineEnd }[] = [];
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      const cr = i > from && bytes[i - 1] === 0x0d;
      segments.push({ body: bytes.subarray(from, cr ? i - 1 : i), end: cr ? '\r\n' : '\n' });
      from = i + 1;
    }
  }
  if (from < bytes.length) {
    const cr = bytes[bytes.length - 1] === 0x0d;
    segments.push({ body: bytes.subarray(from, cr ? bytes.length - 1 : bytes.length), end: cr ? '\r' : '' });
  }
  const lines: EnvLine[] = [];
  const values = new Map<string, string>();
  let ending: '\n' | '\r\n' = '\n';
  segments.forEach(({ body, end }, index) => {
    const n = index + 1;
    if (end === '\n' || end === '\r\n') ending = end;
    let raw: string;
    let utf8 = true;
    try {
      raw = UTF8.decode(body);
    } catch {
      raw = LOSSY.decode(body);
      utf8 = false;
    }
    const kept = new Uint8Array(body); // a copy: the read buffer is not kept alive
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      lines.push({ raw, body: kept, end });
      return;
    }
    const m = LINE.exec(raw);
    if (m === null) throw parseError(secretId, n, 'is not NAME=value, a comment or a blank line');
    const [, , exportPrefix, key, rest] = m as unknown as [string, string, string | undefined, string, string];
    if (values.has(key)) throw parseError(secretId, n, `sets ${key} a second time`);
    if (!utf8 && (key === secretId || key.startsWith(`${secretId}_`))) {
      // Never guess the encoding of a secret: a replacement character would silently change the key.
      throw envError(
        STORE,
        secretId,
        'INVALID_FORMAT',
        `env-file: line ${n} (${key}) is not valid UTF-8; keyturn reads secrets as UTF-8 only`,
      );
    }
    values.set(key, parseValue(rest, secretId, n));
    lines.push({ raw, body: kept, end, key, exportPrefix });
  });
  return new EnvDocument(lines, values, finalNewline, bom, ending);
}

function parseValue(rest: string, secretId: string, n: number): string {
  const afterQuote = (tail: string): void => {
    if (!/^\s*(#.*)?$/.test(tail)) throw parseError(secretId, n, 'has text after the closing quote');
  };
  if (rest.startsWith("'")) {
    const end = rest.indexOf("'", 1);
    if (end === -1) throw parseError(secretId, n, 'has an unterminated single quote (multi-line values are not supported)');
    afterQuote(rest.slice(end + 1));
    return rest.slice(1, end);
  }
  if (rest.startsWith('"')) {
    let out = '';
    for (let i = 1; i < rest.length; i++) {
      const c = rest[i] as string;
      if (c === '"') {
        afterQuote(rest.slice(i + 1));
        return out;
      }
      if (c === '\\') {
        const e = rest[++i];
        if (e === 'n') out += '\n';
        else if (e === 'r') out += '\r';
        else if (e === 't') out += '\t';
        else if (e === '"' || e === '\\' || e === '$' || e === "'") out += e;
        else throw parseError(secretId, n, 'has an unknown escape sequence in a double-quoted value');
      } else out += c;
    }
    throw parseError(secretId, n, 'has an unterminated double quote (multi-line values are not supported)');
  }
  const value = rest.replace(/\s+#.*$/, '');
  if (value.includes('#')) throw parseError(secretId, n, 'has an unquoted value containing # (quote it)');
  return value;
}

function quote(value: string): string {
  if (/^[A-Za-z0-9_\-.:/+=@~%,]+$/.test(value)) return value;
  // Newlines, tabs and CRs (a value read from a double-quoted "a\\nb") need the escapes only double
  // quotes have: a single-quoted value is literal, and a newline in it would end the line.
  if (!value.includes("'") && !/[\n\r\t]/.test(value)) return `'${value}'`;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/** The bytes of `doc`: every line kept as read unless rewritten, line endings as they were. */
export function serializeEnvFile(doc: EnvDocument): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  if (doc.bom) parts.push(new Uint8Array([0xef, 0xbb, 0xbf]));
  doc.lines.forEach((l, i) => {
    parts.push(l.body ?? encoder.encode(l.raw));
    const last = i === doc.lines.length - 1;
    let end: string;
    if (l.end === '\n' || l.end === '\r\n') end = last && !doc.finalNewline ? '' : l.end;
    else if (l.end === '\r')
      end = last ? '\r' : '\r\n'; // a lone CR that ended the file stays; followed by more, it becomes CRLF
    else end = last && !doc.finalNewline ? '' : doc.ending; // an added line, or the old unterminated last line
    parts.push(encoder.encode(end));
  });
  return concat(parts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function parseError(secretId: string, line: number, what: string): KeyStoreError {
  // Never quote the line: it may hold a secret.
  return envError(STORE, secretId, 'PARSE_ERROR', `env-file: line ${line} ${what}`);
}
