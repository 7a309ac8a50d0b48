/**
 * Cases that depend on parts other packages provide: the WebCrypto backend and the cloud stores'
 * test servers (cold path). Each is added only when its module is present.
 *
 * @module
 */
import type { CaseDef } from './cases.ts';

/** The optional cases available in this checkout. */
export async function extraCases(): Promise<CaseDef[]> {
  return [];
}
