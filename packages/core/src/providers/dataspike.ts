/**
 * Dataspike: `X-Webhook-Signature: t=<unix>,v1=<hex>`, signed content `"{t}.{raw body}"`, key =
 * hex-decode of the secret after `whsec_`. Several `v1` entries are accepted (rotation).
 *
 * @module
 */
import { timestampedScheme } from './timestamped.ts';
import type { DataspikeEvent } from './events.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link dataspike}. */
export interface DataspikeOptions {
  /** How old `t` may be, in ms, from 1 000 to 604 800 000 (7 days). @default 300_000 */
  toleranceMs?: number;
  /** How far ahead `t` may be (sender clock skew), in ms, from 0 to 604 800 000. @default 60_000 */
  futureToleranceMs?: number;
  /** HTTP status for a rejected signature, an integer from 400 to 599. @default 401 */
  rejectStatus?: number;
}

/** The Dataspike profile. `result.event` is a {@link DataspikeEvent}. */
export function dataspike(options: DataspikeOptions = {}): ProviderProfile<DataspikeEvent> {
  return timestampedScheme<DataspikeEvent>({
    name: 'dataspike',
    header: 'X-Webhook-Signature',
    codec: 'whsec-hex',
    rejectStatus: options.rejectStatus,
    rejectDefault: 401,
    pastMs: options.toleranceMs,
    pastDefault: 300_000,
    futureMs: options.futureToleranceMs,
    futureDefault: 60_000,
  });
}
