/**
 * The wire format of fleet notices: a small JSON object with ids and durations only.
 *
 * ```json
 * {"v":1,"t":"key-changed","s":"prod/dataspike","k":"v7","n":42}
 * {"v":1,"t":"rotation-started","s":"prod/dataspike","ttl":120000,"n":41}
 * {"v":1,"t":"rotation-ended","s":"prod/dataspike","n":43}
 * ```
 *
 * `n` is the notice's number (`INCR` of the fleet's sequence key, in the same script as the `PUBLISH`):
 * a subscriber that sees a jump, or a sequence ahead of the last notice it got, knows it missed some.
 *
 * @internal
 * @module
 */
import { MAX_FENCE_TTL_MS, type FleetNotice } from '@keyturn/core';

/** Longest notice accepted, in characters; anything longer is ignored unread. */
export const MAX_NOTICE_LENGTH = 4_096;
/** Longest secret or version id in a notice (the verifier's own limit for secret ids). */
const MAX_ID_LENGTH = 1_024;

/** A decoded notice and its number. */
export interface WireNotice {
  readonly notice: FleetNotice;
  readonly seq: number;
}

/** Why a message is not a notice. */
export type NoticeProblem = 'malformed' | 'unknown' | 'too-large';

/** Encodes `notice` with its number. */
export function encodeNotice(notice: FleetNotice, seq: number): string {
  const base: Record<string, unknown> = { v: 1, t: notice.type, s: notice.secretId };
  if (notice.type === 'key-changed' && notice.versionId !== undefined) base['k'] = notice.versionId;
  if (notice.type === 'rotation-started') base['ttl'] = notice.ttlMs;
  base['n'] = seq;
  return JSON.stringify(base);
}

/** The JSON of a notice without its number (the publish script appends `"n":<seq>}`). */
export function noticeTemplate(notice: FleetNotice): string {
  const json = encodeNotice(notice, 0);
  return json.slice(0, json.lastIndexOf('"n":'));
}

const validId = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= MAX_ID_LENGTH;

/** Decodes a message; never throws. */
export function decodeNotice(message: unknown): WireNotice | NoticeProblem {
  if (typeof message !== 'string') return 'malformed';
  if (message.length > MAX_NOTICE_LENGTH) return 'too-large';
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return 'malformed';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'malformed';
  const o = parsed as Record<string, unknown>;
  if (typeof o['v'] !== 'number') return 'malformed';
  if (o['v'] !== 1) return 'unknown';
  const seq = o['n'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return 'malformed';
  const secretId = o['s'];
  if (!validId(secretId)) return 'malformed';
  switch (o['t']) {
    case 'key-changed': {
      const k = o['k'];
      if (k !== undefined && !validId(k)) return 'malformed';
      return { notice: { type: 'key-changed', secretId, versionId: k }, seq };
    }
    case 'rotation-started': {
      const ttl = o['ttl'];
      if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1 || ttl > MAX_FENCE_TTL_MS) return 'malformed';
      return { notice: { type: 'rotation-started', secretId, ttlMs: ttl }, seq };
    }
    case 'rotation-ended':
      return { notice: { type: 'rotation-ended', secretId }, seq };
    default:
      return typeof o['t'] === 'string' ? 'unknown' : 'malformed';
  }
}
