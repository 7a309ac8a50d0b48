/**
 * Open findings the harness steps around until they are fixed, so the bounded run stays green
 * while the owner works on them. Each has a reproducer in findings/<target>/ that
 * test/findings.test.ts runs with the suppression off and expects to fail: when a fix lands that
 * test fails ("expected to fail"), and the entry, its reproducer expectation and the skip go.
 */

/** Whether open findings are stepped around (off in test/findings.test.ts, or with KEYTURN_FUZZ_NO_SUPPRESS=1). */
let suppress = process.env['KEYTURN_FUZZ_NO_SUPPRESS'] !== '1';

/** Turns suppression on or off (tests only). */
export function setSuppression(on: boolean): void {
  suppress = on;
}

/** The open findings, by id; each is a predicate over the case the harness is about to run. */
export const KNOWN = {
  /**
   * hmac() accepts a separator that also occurs inside a signature token (in the prefix, or in the
   * encoding's alphabet), so sign() produces headers its own parse() rejects.
   * Reproducer: findings/header-hmac/separator-in-prefix.
   */
  hmacSeparatorInToken(prefix: string, separator: string | undefined, encoding: 'hex' | 'base64'): boolean {
    if (!suppress || separator === undefined) return false;
    const alphabet = encoding === 'hex' ? '0123456789abcdefABCDEF' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
    const token = prefix + alphabet;
    return separator.length === 0 || [...separator].some((c) => token.includes(c)) || prefix.includes(separator);
  },


  /**
   * sign() (hmac() profiles with an idHeader, standardWebhooks()) accepts an id that parse()
   * refuses — empty, or longer than 256 characters — and writes headers that never verify,
   * instead of a TypeError. Reproducer: findings/signed-content/sign-accepts-empty-id.
   */
  signAcceptsUnparseableId(id: string | undefined): boolean {
    return suppress && id !== undefined && (id.length === 0 || id.length > 256);
  },

  /**
   * envFileKeyStore rewrites bytes of lines it does not change:
   * - bytes that are not UTF-8 become U+FFFD (issue 12 item 14, h12-stores) —
   *   findings/env-file/non-utf8-byte-rewritten;
   * - CRLF line endings become LF — findings/env-file/crlf-line-endings-rewritten;
   * - a UTF-8 byte order mark is dropped — findings/env-file/bom-dropped.
   */
  envFileRewritesBytes(doc: Uint8Array): boolean {
    if (!suppress) return false;
    if (Buffer.from(doc).includes('\r\n') || (doc[0] === 0xef && doc[1] === 0xbb && doc[2] === 0xbf)) return true;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(doc);
      return false;
    } catch {
      return true;
    }
  },

  /**
   * envFileKeyStore.rotate() demotes a current value that holds a newline (written `"a\nb"`) to
   * `X_PREVIOUS='a<newline>b'`: quote() does not escape control characters, rotate() validates the
   * values but not the text it writes, and the file it leaves cannot be read (PARSE_ERROR: every
   * later load fails). Reproducer: findings/env-file/demoted-value-with-newline-corrupts-file.
   */
  envFileQuotesNewline(doc: Uint8Array): boolean {
    return suppress && Buffer.from(doc).includes('\\n');
  },

};
