/**
 * A wrapper for secret material that redacts itself everywhere it could leak: `util.inspect`,
 * `JSON.stringify`, `String()`, template literals and `lru-cache`'s diagnostics channel (which
 * publishes cached values).
 *
 * @module
 */

const REDACTED = '[redacted secret]';

/** Holds secret bytes or text; prints as `[redacted secret]`. */
export class SecretMaterial {
  readonly #value: string | Uint8Array;

  /** Keeps `value`; bytes are copied, so later changes to the caller's buffer do not reach it. */
  constructor(value: string | Uint8Array) {
    this.#value = typeof value === 'string' ? value : new Uint8Array(value);
  }

  /** The raw value. Call only where the secret is used (decoding into key bytes). */
  reveal(): string | Uint8Array {
    return this.#value;
  }

  /** Constant-time-ish equality with another raw value (used to reuse decoded keys on reload). */
  equals(other: string | Uint8Array): boolean {
    const a = this.#value;
    if (typeof a === 'string' || typeof other === 'string') return a === other;
    if (a.length !== other.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (other[i] as number);
    return diff === 0;
  }

  /** Always `[redacted secret]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[redacted secret]`. */
  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }

  /** `SecretMaterial`. */
  get [Symbol.toStringTag](): string {
    return 'SecretMaterial';
  }
}
