/**
 * Structured values read from a fuzzer's byte string. Reading past the end yields zeros / empty
 * values, so every byte string is a valid input and libFuzzer's mutations (insert, erase, cross
 * over) move smoothly between structures.
 */
export class Input {
  private pos = 0;

  constructor(readonly data: Uint8Array) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.data.length - this.pos;
  }

  /** One byte (0 past the end). */
  byte(): number {
    return this.pos < this.data.length ? (this.data[this.pos++] as number) : 0;
  }

  /** A boolean from one byte. */
  bool(): boolean {
    return (this.byte() & 1) === 1;
  }

  /** An integer in `[0, n)` from one byte (two when `n > 256`). */
  int(n: number): number {
    if (n <= 1) return 0;
    const v = n > 256 ? (this.byte() << 8) | this.byte() : this.byte();
    return v % n;
  }

  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** The bytes up to the next 0x00 separator (or the end); the separator is consumed. */
  field(): Uint8Array {
    const start = this.pos;
    let end = this.data.indexOf(0, start);
    if (end < 0) end = this.data.length;
    this.pos = Math.min(end + 1, this.data.length);
    return this.data.subarray(start, end);
  }

  /** A field as text: latin1 (one character per byte) or, when `utf8`, decoded as UTF-8. */
  text(utf8 = false): string {
    const bytes = this.field();
    return utf8 ? new TextDecoder().decode(bytes) : latin1(bytes);
  }

  /** Everything not read yet. */
  rest(): Uint8Array {
    const out = this.data.subarray(this.pos);
    this.pos = this.data.length;
    return out;
  }
}

/** One character per byte. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}
