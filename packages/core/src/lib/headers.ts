/**
 * Case-insensitive header access over Fetch `Headers`, Node `IncomingHttpHeaders` and plain records.
 *
 * @internal
 * @module
 */

/** A Fetch `Headers`-like object. */
export interface HeadersLike {
  /** The header's value (repeated headers joined by `", "`), or `null`. */
  get(name: string): string | null;
}

/** Headers as any runtime hands them over. */
export type HeadersInput = HeadersLike | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Reads one header. `lowerName` must be lowercase. Repeated headers (an array value) are joined
 * with `", "` exactly as Fetch `Headers.get` does, so every runtime gives the same answer.
 */
export function readHeader(headers: HeadersInput, lowerName: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const v = (headers as { get(name: string): string | null }).get(lowerName);
    return v === null ? undefined : v;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let v = record[lowerName];
  if (v === undefined) {
    for (const key in record) {
      if (key.length === lowerName.length && key.toLowerCase() === lowerName) {
        v = record[key];
        break;
      }
    }
  }
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.join(', ');
  return undefined;
}
