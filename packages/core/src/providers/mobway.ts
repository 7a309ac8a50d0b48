/**
 * Mobway: `X-Signature` is the hex HMAC-SHA256 of the raw body; rejections answer 403.
 *
 * @module
 */
import { rejectStatusOption } from '../lib/validate.ts';
import { hmac } from './hmac.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link mobway}. */
export interface MobwayOptions {
  /** HTTP status for a rejected signature. @default 403 */
  rejectStatus?: number;
}

/** The Mobway profile. */
export function mobway(options: MobwayOptions = {}): ProviderProfile {
  return hmac({
    name: 'mobway',
    header: 'X-Signature',
    encoding: 'hex',
    secretCodec: 'utf8',
    rejectStatus: rejectStatusOption('mobway()', options.rejectStatus, 403),
  });
}
