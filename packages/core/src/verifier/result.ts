/**
 * What an accepted webhook resolves to: the key that matched, and the verified body as JSON on
 * demand (`result.event`, parsed on first read, never before the signature matched).
 *
 * @internal
 * @module
 */
import { EventParseError } from '../errors.ts';
import type { KeyRole } from '../keys/types.ts';
import type { VerifyResult } from './types.ts';

const UNPARSED: unique symbol = Symbol('keyturn.unparsed');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The result object `verify()` returns. A class so that `event` is one getter on the prototype (no
 * per-request property definition), and the body a private field: not enumerable, not in
 * `JSON.stringify`, `util.inspect` or a spread copy.
 */
export class AcceptedWebhook<TEvent = unknown> implements VerifyResult<TEvent> {
  readonly provider: string;
  readonly secretId: string;
  readonly keyId: string;
  readonly keyRole: KeyRole;
  readonly timestamp: number | undefined;
  readonly eventId: string | undefined;
  readonly #body: string | Uint8Array;
  #event: unknown = UNPARSED;

  constructor(
    provider: string,
    secretId: string,
    keyId: string,
    keyRole: KeyRole,
    timestamp: number | undefined,
    eventId: string | undefined,
    body: string | Uint8Array,
  ) {
    this.provider = provider;
    this.secretId = secretId;
    this.keyId = keyId;
    this.keyRole = keyRole;
    this.timestamp = timestamp;
    this.eventId = eventId;
    this.#body = body;
  }

  /** The verified body parsed as JSON, on first read (then kept); {@link EventParseError} when it is not JSON. */
  get event(): TEvent {
    if (this.#event === UNPARSED) this.#event = parse(this.#body, this);
    return this.#event as TEvent;
  }
}

function parse(body: string | Uint8Array, result: AcceptedWebhook<unknown>): unknown {
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      throw new EventParseError({
        provider: result.provider,
        secretId: result.secretId,
        keyId: result.keyId,
        bodyLength: body.length,
        reason: 'utf8',
      });
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new EventParseError({
      provider: result.provider,
      secretId: result.secretId,
      keyId: result.keyId,
      bodyLength: body.length,
      reason: 'json',
    });
  }
}
