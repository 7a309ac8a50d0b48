/**
 * The AWS Lambda HTTP event shapes, as the Lambda and Middy adapters read them: the kind of an event
 * (API Gateway REST and HTTP API payload 1.0, HTTP API payload 2.0, Function URLs, ALB targets with
 * and without multi-value headers), its headers merged case-insensitively, its body as the exact bytes
 * that were sent, and answers in the shape each kind expects. Structural types only: no dependency on
 * `@types/aws-lambda` (whose events and results fit these types).
 *
 * @internal
 * @module
 */
import { VerificationError } from '../errors.ts';
import { BodyError, BodyTooLargeError, type ContentCoding } from './shared.ts';

/**
 * Where a Lambda HTTP event came from, as detected from the event itself:
 * - `api-gateway-v1`: API Gateway REST API, or HTTP API with payload format 1.0 (`headers` and
 *   `multiValueHeaders`);
 * - `api-gateway-v2`: HTTP API with payload format 2.0 (`version: "2.0"`, comma-joined headers, `cookies`);
 * - `function-url`: a Lambda function URL (the 2.0 shape, on a `*.lambda-url.*` domain);
 * - `alb`: an Application Load Balancer target group (`requestContext.elb`), with or without multi-value headers.
 */
export type LambdaEventKind = 'api-gateway-v1' | 'api-gateway-v2' | 'function-url' | 'alb';

/** The event kinds the adapters recognise. */
export const LAMBDA_EVENT_KINDS: readonly LambdaEventKind[] = ['api-gateway-v1', 'api-gateway-v2', 'function-url', 'alb'];

/** The fields of a Lambda HTTP event the adapters read (API Gateway v1/v2, Function URL, ALB). */
export interface LambdaHttpEvent {
  /** `"2.0"` for HTTP API payload 2.0 and Function URLs, `"1.0"` for HTTP API payload 1.0, absent for REST APIs and ALB. */
  readonly version?: string | undefined;
  /** Single-value headers (2.0: lowercase names, repeated headers comma-joined; ALB without multi-value: the last value). */
  readonly headers?: Readonly<Record<string, string | undefined>> | null | undefined;
  /** Multi-value headers (REST API, HTTP API 1.0, ALB with multi-value headers enabled). */
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null | undefined;
  /** Cookies (payload 2.0: the `Cookie` header's parts). */
  readonly cookies?: readonly string[] | null | undefined;
  /** The body: text, or base64 when `isBase64Encoded`. */
  readonly body?: string | null | undefined;
  /** Whether `body` is base64. */
  readonly isBase64Encoded?: boolean | undefined;
  /** The method (payload 1.0, ALB). */
  readonly httpMethod?: string | undefined;
  /** Request context: `http` (2.0), `elb` (ALB), `httpMethod`/`stage` (REST). */
  readonly requestContext?: unknown;
}

/** A Lambda HTTP result: what API Gateway, Function URLs and ALB turn into the HTTP response. */
export interface LambdaHttpResult {
  /** HTTP status. */
  statusCode: number;
  /** Single-value response headers. */
  headers?: Record<string, string | number | boolean> | undefined;
  /** Multi-value response headers (payload 1.0, ALB with multi-value headers). */
  multiValueHeaders?: Record<string, (string | number | boolean)[]> | undefined;
  /** Response body (base64 when `isBase64Encoded`). */
  body?: string | undefined;
  /** Whether `body` is base64. */
  isBase64Encoded?: boolean | undefined;
  /** ALB only: `"<status> <reason>"` (filled in by the adapters when absent). */
  statusDescription?: string | undefined;
  /** Payload 2.0 / Function URLs: `Set-Cookie` values. */
  cookies?: string[] | undefined;
}

/** Codes of {@link LambdaEventError}. */
export type LambdaEventErrorCode = 'UNSUPPORTED_EVENT';

/**
 * Thrown (the invocation fails) when the adapter is invoked with an event that is not one of the HTTP
 * events it knows (an SQS or EventBridge event, a direct invocation with a custom payload, a WebSocket
 * event): there is no HTTP sender to answer, and a 401 would hide the misconfiguration. Its message names
 * the event's top-level fields only, never their values.
 */
export class LambdaEventError extends TypeError {
  /** Always `'UNSUPPORTED_EVENT'`. */
  readonly code: LambdaEventErrorCode;
  /** What to change. */
  readonly hint: string;

  constructor(message: string, hint: string) {
    super(message);
    this.name = 'LambdaEventError';
    this.code = 'UNSUPPORTED_EVENT';
    this.hint = hint;
  }

  /** A log-safe plain object. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, hint: this.hint };
  }
}

const UNSUPPORTED_HINT =
  'Invoke this handler from API Gateway (REST API, or HTTP API with payload format 1.0 or 2.0), a Lambda function URL or an ' +
  'Application Load Balancer target group with Lambda proxy integration. Other event sources (SQS, EventBridge, direct ' +
  'invocations) carry no HTTP request to verify: call verifier.verify({ body, headers }) yourself.';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Detects the kind of `event`; throws {@link LambdaEventError} for anything else. */
export function eventKind(event: unknown): LambdaEventKind {
  if (!isObject(event)) {
    throw new LambdaEventError(
      `The Lambda adapter was invoked with ${event === null ? 'null' : Array.isArray(event) ? 'an array' : `a ${typeof event}`}, not an HTTP event.`,
      UNSUPPORTED_HINT,
    );
  }
  const ctx = event['requestContext'];
  const headersOk = (name: string) => event[name] === undefined || event[name] === null || isObject(event[name]);
  if (isObject(ctx)) {
    if (isObject(ctx['elb']) && headersOk('headers') && headersOk('multiValueHeaders')) return 'alb';
    if (event['version'] === '2.0' && isObject(ctx['http']) && headersOk('headers')) {
      const domain = ctx['domainName'];
      return typeof domain === 'string' && /\.lambda-url\.[a-z0-9-]+\.on\.aws$/i.test(domain) ? 'function-url' : 'api-gateway-v2';
    }
    if (
      typeof event['httpMethod'] === 'string' &&
      event['version'] !== '2.0' &&
      ctx['connectionId'] === undefined &&
      headersOk('headers') &&
      headersOk('multiValueHeaders')
    ) {
      return 'api-gateway-v1';
    }
  }
  const fields = Object.keys(event)
    .slice(0, 12)
    .map((k) => (/^[\w$-]{1,40}$/.test(k) ? k : '?'))
    .join(', ');
  throw new LambdaEventError(
    `The Lambda adapter was invoked with an event it does not recognise as an HTTP request (fields: ${fields || 'none'}).`,
    UNSUPPORTED_HINT,
  );
}

/**
 * The event's request headers under lowercase names. Names that differ only in case are merged, in
 * the order the event lists them, and repeated values are joined with `", "` (as Node and Fetch do).
 * `multiValueHeaders` wins over `headers` when the event has it (it is the complete set); payload 2.0
 * `cookies` become a `cookie` header (joined with `"; "`) when the event has no `cookie` header.
 */
export function eventHeaders(event: LambdaHttpEvent, kind: LambdaEventKind): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const add = (name: string, value: unknown): void => {
    if (typeof value !== 'string' || name === '') return;
    const key = name.toLowerCase();
    const cur = out[key];
    out[key] = cur === undefined ? value : `${cur}, ${value}`;
  };
  const multi = kind === 'api-gateway-v1' || kind === 'alb' ? event.multiValueHeaders : undefined;
  if (isObject(multi)) {
    for (const name of Object.keys(multi)) {
      const values = multi[name];
      if (Array.isArray(values)) for (const v of values) add(name, v);
      else add(name, values);
    }
  } else if (isObject(event.headers)) {
    for (const name of Object.keys(event.headers)) add(name, event.headers[name]);
  }
  if ((kind === 'api-gateway-v2' || kind === 'function-url') && Array.isArray(event.cookies) && out['cookie'] === undefined) {
    const cookies = event.cookies.filter((c): c is string => typeof c === 'string');
    if (cookies.length > 0) out['cookie'] = cookies.join('; ');
  }
  return out;
}

/** Every `BodyError` code the Lambda adapters add: a body marked base64 that is not. */
export const INVALID_BASE64_BODY = 'INVALID_BASE64_BODY';

/** Hint of `BODY_NOT_RAW` when something parsed `event.body` before keyturn. */
export const BODY_PARSED_HINT =
  'Something replaced event.body before keyturn verified it (a body parser such as @middy/http-json-body-parser). ' +
  'Register keyturnMiddy() before any body parser (the first .use()), so it sees the body as the event source sent it.';

/** The part of Node's `Buffer` the fast base64 path uses (typed here: core has no @types/node in its lib). */
interface NodeBufferLike {
  from(text: string, encoding: 'base64'): Uint8Array & { toString(encoding: 'base64'): string };
}

const B64 = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

function invalidBase64(detail: string): BodyError {
  return new BodyError(INVALID_BASE64_BODY, `The event body is marked isBase64Encoded but is not valid base64 (${detail}).`, {
    hint: 'API Gateway, function URLs and ALB send binary bodies as standard padded base64. Something in front of the function changed event.body or isBase64Encoded.',
  });
}

/**
 * Strict base64 (RFC 4648 §4, the standard alphabet, with padding) straight to bytes: no whitespace,
 * no URL-safe alphabet, no missing or extra padding, no non-zero bits after the last byte. Never goes
 * through a string.
 */
export function decodeBase64Strict(text: string): Uint8Array {
  // Fast path (Node, where Lambda runs): the runtime's decoder is lenient, but canonical padded base64
  // is a bijection, so bytes that re-encode to exactly `text` are the strict decoding of it. Anything
  // else goes to the strict decoder below, which names what is wrong.
  const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;
  if (NodeBuffer !== undefined && text.length % 4 === 0) {
    const decoded = NodeBuffer.from(text, 'base64');
    if (decoded.toString('base64') === text) return new Uint8Array(decoded); // a copy: never a pool view
  }
  const n = text.length;
  if (n % 4 !== 0) throw invalidBase64('its length is not a multiple of 4');
  if (n === 0) return new Uint8Array(0);
  const pad = text.charCodeAt(n - 1) === 61 ? (text.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
  const out = new Uint8Array((n / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < n; i += 4) {
    const last = i + 4 === n;
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    const va = a < 256 ? (B64[a] as number) : -1;
    const vb = b < 256 ? (B64[b] as number) : -1;
    const vc = last && pad === 2 ? 0 : c < 256 ? (B64[c] as number) : -1;
    const vd = last && pad >= 1 ? 0 : d < 256 ? (B64[d] as number) : -1;
    if ((va | vb | vc | vd) < 0)
      throw invalidBase64(`a character outside the base64 alphabet, or padding before the end, near offset ${i}`);
    const triple = (va << 18) | (vb << 12) | (vc << 6) | vd;
    out[o++] = triple >> 16;
    if (last && pad === 2) {
      if ((triple & 0xffff) !== 0) throw invalidBase64('non-zero bits after the last byte');
      break;
    }
    out[o++] = (triple >> 8) & 0xff;
    if (last && pad === 1) {
      if ((triple & 0xff) !== 0) throw invalidBase64('non-zero bits after the last byte');
      break;
    }
    out[o++] = triple & 0xff;
  }
  return out;
}

/** Standard padded base64 of `bytes` (for binary answers). */
export function encodeBase64(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const t = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += alphabet[t >> 18]! + alphabet[(t >> 12) & 63]! + alphabet[(t >> 6) & 63]! + alphabet[t & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const t = (bytes[i] as number) << 16;
    out += `${alphabet[t >> 18]!}${alphabet[(t >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const t = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += `${alphabet[t >> 18]!}${alphabet[(t >> 12) & 63]!}${alphabet[(t >> 6) & 63]!}=`;
  }
  return out;
}

const encoder = new TextEncoder();

/**
 * The body exactly as it was sent: `isBase64Encoded` → strict base64 decoded straight to bytes
 * (`INVALID_BASE64_BODY`, 400, when it is not); otherwise the UTF-8 bytes of the string. A body that
 * cannot fit in `maxBodyBytes` is refused (413) before it is decoded.
 */
export function eventBodyBytes(event: LambdaHttpEvent, maxBodyBytes: number): Uint8Array {
  const body = event.body;
  if (body === undefined || body === null || body === '') return new Uint8Array(0);
  if (typeof body !== 'string') {
    // A Middy body parser (or other code) replaced the body before the adapter saw it.
    throw new VerificationError(
      'BODY_NOT_RAW',
      `event.body is ${Array.isArray(body) ? 'an array' : `a ${typeof body}`}, not the string the event source sent: the signed bytes are gone.`,
      {
        hint: BODY_PARSED_HINT,
      },
    );
  }
  if (event.isBase64Encoded === true) {
    if (Math.floor(body.length / 4) * 3 - 2 > maxBodyBytes) throw new BodyTooLargeError(maxBodyBytes);
    return decodeBase64Strict(body);
  }
  // Every UTF-16 code unit is at least one UTF-8 byte.
  if (body.length > maxBodyBytes) throw new BodyTooLargeError(maxBodyBytes);
  return encoder.encode(body);
}

/**
 * Whether `bytes` still carry the declared coding. API Gateway REST APIs with payload compression
 * enabled decompress a `Content-Encoding: gzip` request before invoking the function but keep the
 * header (isBase64Encoded is then false): such a body is verified as it is. A gzip stream starts with
 * 1f 8b; a zlib (`deflate`) stream with a valid two-byte header.
 */
export function stillEncoded(bytes: Uint8Array, coding: Exclude<ContentCoding, 'identity'>): boolean {
  if (bytes.length < 2) return false;
  const b0 = bytes[0] as number;
  const b1 = bytes[1] as number;
  if (coding === 'gzip') return b0 === 0x1f && b1 === 0x8b;
  return (b0 & 0x0f) === 8 && b0 >> 4 <= 7 && ((b0 << 8) | b1) % 31 === 0;
}

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `"<status> <reason>"`, as an ALB result's `statusDescription`. */
export function statusDescription(status: number): string {
  const reason = REASONS[status];
  return reason === undefined ? String(status) : `${status} ${reason}`;
}

/** A result in the shape `kind` expects (ALB: `statusDescription`, and `multiValueHeaders` when the event had them). */
export function shapeResult(event: LambdaHttpEvent, kind: LambdaEventKind, result: LambdaHttpResult): LambdaHttpResult {
  if (kind !== 'alb') return result;
  const out: LambdaHttpResult = { ...result };
  if (out.statusDescription === undefined) out.statusDescription = statusDescription(out.statusCode);
  if (out.isBase64Encoded === undefined) out.isBase64Encoded = false;
  // With multi-value headers on, an ALB reads only `multiValueHeaders` from the result.
  if (isObject(event.multiValueHeaders) && out.headers !== undefined) {
    const multi: Record<string, (string | number | boolean)[]> = { ...(out.multiValueHeaders ?? {}) };
    for (const [name, value] of Object.entries(out.headers)) if (multi[name] === undefined) multi[name] = [value];
    out.multiValueHeaders = multi;
    delete out.headers;
  }
  return out;
}

/** A JSON answer for `kind`. */
export function jsonResult(
  event: LambdaHttpEvent,
  kind: LambdaEventKind,
  status: number,
  body: string,
  extra: Readonly<Record<string, string>> = {},
): LambdaHttpResult {
  return shapeResult(event, kind, {
    statusCode: status,
    headers: { ...extra, 'content-type': 'application/json; charset=utf-8' },
    body,
    isBase64Encoded: false,
  });
}

/** Whether `value` is a Lambda HTTP result (an object with an own `statusCode`). */
export function isLambdaResult(value: unknown): value is LambdaHttpResult {
  return isObject(value) && Object.hasOwn(value, 'statusCode');
}

/**
 * What the adapters send for a handler's return value: a Lambda result as it is (shaped for ALB), a
 * `Uint8Array` as a binary 200, `undefined` as 204, anything else as JSON with 200. A `statusCode`
 * that is not an integer from 100 to 599 is a handler bug (`TypeError`).
 */
export function handlerResult(event: LambdaHttpEvent, kind: LambdaEventKind, value: unknown): LambdaHttpResult {
  if (isLambdaResult(value)) {
    const status = value.statusCode;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      throw new TypeError(
        `The webhook handler returned a result whose statusCode is not an HTTP status (got ${typeof status === 'number' ? status : typeof status})`,
      );
    }
    return shapeResult(event, kind, value);
  }
  if (value === undefined) return shapeResult(event, kind, { statusCode: 204, body: '', isBase64Encoded: false });
  if (value instanceof Uint8Array) {
    return shapeResult(event, kind, {
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: encodeBase64(value),
      isBase64Encoded: true,
    });
  }
  const json = JSON.stringify(value);
  return jsonResult(event, kind, 200, json === undefined ? 'null' : json);
}

/** Header names without `content-encoding` and `content-length` (the body the handler sees is decoded). */
export function withoutCoding(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(headers)) if (k !== 'content-encoding' && k !== 'content-length') out[k] = v;
  return out;
}
