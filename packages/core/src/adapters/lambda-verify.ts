/**
 * The step the Lambda and Middy adapters share: from an event to either an answer (a rejection, the
 * provider handshake) or a verified webhook, on the shared adapter core (`readBody` over the bytes
 * already in memory, `processWebhook`, `rejection`).
 *
 * @internal
 * @module
 */
import type { Verifier, VerifyResult } from '../verifier.ts';
import {
  eventBodyBytes,
  eventHeaders,
  eventKind,
  jsonResult,
  stillEncoded,
  withoutCoding,
  type LambdaEventKind,
  type LambdaHttpEvent,
  type LambdaHttpResult,
} from './lambda-events.ts';
import { bytesSource, contentCoding, processWebhook, readBody, rejection, report, type AdapterSettings } from './shared.ts';

/** Anything the adapters can flush at the end of an invocation: a keyturn fleet (`redisFleet()`, `dynamodbFleet()`). */
export interface FlushableFleet {
  /** Writes every count held by this process now. */
  flush(): Promise<void>;
}

/** A verified delivery, before the handler runs. */
export interface VerifiedLambdaEvent {
  readonly type: 'verified';
  /** Where the event came from. */
  readonly kind: LambdaEventKind;
  readonly result: VerifyResult;
  /** The verified bytes (decoded when the delivery was compressed). */
  readonly body: Uint8Array;
  /** Request headers, lowercase; without `content-encoding`/`content-length` when the body was sent with a coding. */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether the delivery declared a `Content-Encoding` (its body is now the decoded bytes). */
  readonly decoded: boolean;
}

/** The outcome of {@link verifyLambdaEvent}: an answer to send as it is, or a verified delivery. */
export type LambdaOutcome =
  | { readonly type: 'answer'; readonly kind: LambdaEventKind; readonly answer: LambdaHttpResult }
  | VerifiedLambdaEvent;

/**
 * Detects the event kind (a {@link LambdaEventError} for an event that is not an HTTP request is
 * thrown, not answered), reads the exact body bytes, verifies them or answers the handshake, and turns
 * any rejection into the answer every adapter gives (the profile's status, the generic JSON body),
 * reported through `onError`.
 */
export async function verifyLambdaEvent(
  verifier: Verifier,
  event: LambdaHttpEvent,
  settings: AdapterSettings,
  secretIdOf: ((event: LambdaHttpEvent) => string | undefined) | undefined,
): Promise<LambdaOutcome> {
  const kind = eventKind(event);
  try {
    const headers = eventHeaders(event, kind);
    const wire = eventBodyBytes(event, settings.maxBodyBytes);
    const declared = contentCoding(headers);
    const plain = declared === 'identity' ? headers : withoutCoding(headers);
    // A body a proxy already decoded (API Gateway payload compression keeps the header) is verified as it is.
    const encoded = declared !== 'identity' && stillEncoded(wire, declared);
    const body = await readBody(bytesSource(wire), encoded ? headers : plain, settings);
    const outcome = await processWebhook(verifier, body, headers, settings, secretIdOf?.(event));
    if (outcome.kind === 'challenge')
      return { type: 'answer', kind, answer: jsonResult(event, kind, 200, JSON.stringify(outcome.response)) };
    return { type: 'verified', kind, result: outcome.result, body, headers: plain, decoded: declared !== 'identity' };
  } catch (error) {
    report(settings, error);
    const answer = rejection(error);
    return { type: 'answer', kind, answer: jsonResult(event, kind, answer.status, answer.body, answer.headers) };
  }
}
