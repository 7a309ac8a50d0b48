/**
 * Key ids of the env stores and the low-entropy warning: a derived id is a slow keyed fingerprint
 * (PBKDF2), so publishing it (logs, status, metrics) never confirms a guessed secret more cheaply
 * than a captured signed webhook already does.
 *
 * @internal
 * @module
 */

/**
 * A secret that looks guessable: its length and number of distinct characters give an estimated strength
 * below 72 bits (length × log2(distinct characters); random secrets of 128 bits do not trigger it). A human-chosen secret can be recovered by
 * trying guesses against one captured signed webhook; use a random one (`openssl rand -hex 32`). The
 * warning names the variable and the key id, never the secret.
 */
export interface EnvSecretWarning {
  /** Always `LOW_ENTROPY_SECRET`. */
  readonly code: 'LOW_ENTROPY_SECRET';
  /** Secret id. */
  readonly secretId: string;
  /** Variable the secret came from (`X`, `X_PREVIOUS_FILE`, ...). */
  readonly variable: string;
  /** Id of the key. */
  readonly keyId: string;
  /** The estimate, in bits (a heuristic: length × log2 of the number of distinct characters). */
  readonly estimatedBits: number;
  /** A log line (no secret in it). */
  readonly message: string;
}

/** PBKDF2 iterations of a derived key id: each guess against an id costs this many HMAC-SHA256 computations. */
const KEY_ID_ITERATIONS = 10_000;
const KEY_ID_SALT = 'keyturn/key-id/v2\u0000';
const derivedIds = new Map<string, string>();
const MAX_DERIVED_IDS = 4_096;
const encoder = new TextEncoder();

/**
 * The fingerprint part of a derived key id: 32 bits of PBKDF2-HMAC-SHA256(secret, salt = a fixed label and
 * the secret id, 10 000 iterations). Slow on purpose — an id is public (logs, status, metrics), so it must
 * not confirm a guessed secret more cheaply than a captured signed webhook already does (one HMAC per
 * guess) — and computed once per secret per process (≈ 10 ms), then remembered.
 */
export async function derivedKeyId(secretId: string, secret: string | Uint8Array): Promise<string> {
  const memo = `${secretId}\u0000${typeof secret === 'string' ? `s${secret}` : `b${hex(secret)}`}`;
  const known = derivedIds.get(memo);
  if (known !== undefined) return known;
  const bytes = typeof secret === 'string' ? encoder.encode(secret) : secret;
  const key = await crypto.subtle.importKey('raw', bytes as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: encoder.encode(KEY_ID_SALT + secretId), iterations: KEY_ID_ITERATIONS },
    key,
    32,
  );
  const id = hex(new Uint8Array(bits));
  if (derivedIds.size >= MAX_DERIVED_IDS) derivedIds.delete(derivedIds.keys().next().value as string);
  derivedIds.set(memo, id);
  return id;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] as number).toString(16).padStart(2, '0');
  return out;
}

/** Warnings already given, per receiver (a default receiver warns once per key per process). */
const warned = new WeakMap<(warning: EnvSecretWarning) => void, Set<string>>();
/** Below this estimate a secret is reported as guessable. */
const WEAK_BITS = 72;

export function warnIfGuessable(
  onWarning: (warning: EnvSecretWarning) => void,
  secretId: string,
  variable: string,
  keyId: string,
  secret: string | Uint8Array,
): void {
  const bits = estimateBits(secret);
  if (bits >= WEAK_BITS) return;
  let seen = warned.get(onWarning);
  if (seen === undefined) warned.set(onWarning, (seen = new Set()));
  if (seen.has(keyId)) return;
  if (seen.size >= MAX_DERIVED_IDS) seen.clear();
  seen.add(keyId);
  const message =
    `keyturn: the secret in ${variable} (key ${keyId}) looks guessable (short, or few distinct characters): ` +
    'a captured signed webhook lets anyone test guesses offline. Use a random secret of at least 128 bits (openssl rand -hex 32).';
  try {
    onWarning({ code: 'LOW_ENTROPY_SECRET', secretId, variable, keyId, estimatedBits: Math.round(bits), message });
  } catch {
    // A warning receiver must never break loading.
  }
}

export function defaultWarning(warning: EnvSecretWarning): void {
  const p = (globalThis as { process?: { emitWarning?: (message: string, options: { code: string }) => void } }).process;
  if (typeof p?.emitWarning === 'function') p.emitWarning(warning.message, { code: 'KEYTURN_LOW_ENTROPY_SECRET' });
  else console.warn(warning.message);
}

/**
 * A rough strength estimate: length × log2(number of distinct characters) — for bytes, 8 bits per
 * distinct byte value. It flags short and repetitive secrets (`password123` 37, `smartcar-prod-2024` 67,
 * `changeme` 23); it cannot recognise a passphrase of dictionary words. Random secrets of 128 bits are
 * far above the threshold: over 300 000 samples each of hex, base64, base64url and UUIDs the lowest
 * estimate was 76 bits (base64url).
 */
function estimateBits(secret: string | Uint8Array): number {
  if (typeof secret !== 'string') return new Set(secret).size * 8;
  const chars = [...secret];
  const distinct = new Set(chars).size;
  return distinct <= 1 ? 0 : chars.length * Math.log2(distinct);
}
