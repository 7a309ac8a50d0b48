/**
 * Express 5 middleware. Gets the raw body right in every setup it can, and says exactly what to
 * change in the one it cannot:
 *
 * - `express.raw()` ran first (`req.body` is a `Buffer`): those bytes are verified.
 * - a parser kept a raw copy in `req.rawBody` (`express.json({ verify })`): that copy is verified.
 * - nothing read the body yet: the middleware reads the stream itself (with `maxBodyBytes` and
 *   `bodyTimeoutMs`, decoding `Content-Encoding: gzip` / `deflate` as `express.raw()` would).
 * - `express.json()` already parsed it and kept no copy: `BODY_NOT_RAW` (500) with the fix in `hint`.
 *
 * On success `req.keyturn` (and `res.locals.keyturn`) holds the result, `req.body` is the raw
 * `Buffer`, and `next()` is called. Rejections are answered with the profile's status and a generic
 * JSON body; the reason goes to `onError` only.
 *
 * Exported from the subpath `@keyturn/core/adapters/express`.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createExpressMiddleware } from '@keyturn/core/adapters/express';
 *
 * const app = express();
 * app.post('/webhooks/smartcar', createExpressMiddleware(verifier), (req, res) => {
 *   const event = JSON.parse(req.body.toString('utf8'));
 *   console.log('key', req.keyturn.keyId, req.keyturn.keyRole);
 *   res.sendStatus(204);
 * });
 * app.use(express.json()); // other routes: after the webhook route, or excluded from it
 * ```
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Verifier, VerifyResult } from '../verifier.ts';
import type { NodeAdapterOptions } from './node.ts';
import { handleNodeWebhook, nodeSettings, readNodeRequestBody, releaseOnServerError, sendRejection } from './node-shared.ts';

export * from './common.ts';

/** Options of {@link createExpressMiddleware}. */
export type ExpressAdapterOptions = NodeAdapterOptions;

/** The fields of an Express request the middleware reads and sets (on top of `IncomingMessage`). */
export type ExpressLikeRequest = IncomingMessage & {
  /** Set by body parsers; the raw `Buffer` after this middleware. */
  body?: unknown;
  /** A raw copy kept by a parser's `verify` hook, if any. */
  rawBody?: unknown;
  /** The verification result, set by this middleware. */
  keyturn?: VerifyResult;
};

/** The fields of an Express response the middleware uses (on top of `ServerResponse`). */
export type ExpressLikeResponse = ServerResponse & {
  /** Express `res.locals`. */
  locals?: Record<string, unknown>;
};

/** An Express-compatible middleware function. */
export type ExpressMiddleware = (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (err?: unknown) => void) => Promise<void>;

/** Hint for a body that `express.json()` (or `urlencoded`, `text`) parsed before the middleware. */
export const EXPRESS_PARSED_HINT =
  'express.json() (or another body parser) ran before the keyturn middleware and kept only the parsed object, so the ' +
  'signed bytes are gone. Fix one of: (1) register the webhook route before app.use(express.json()); ' +
  '(2) mount express.raw({ type: "*/*" }) on the webhook route instead of express.json(); ' +
  '(3) keep a raw copy: express.json({ verify: (req, res, buf) => { req.rawBody = buf } }).';

/**
 * Express 5 middleware that verifies the webhook and sets `req.keyturn`.
 * If a later handler throws or answers 5xx, a replay reservation is released so the retry is accepted.
 * Options are checked here (`TypeError`), not per request.
 */
export function createExpressMiddleware(verifier: Verifier, options: ExpressAdapterOptions = {}): ExpressMiddleware {
  const settings = nodeSettings(options, 'createExpressMiddleware');
  return async (req, res, next) => {
    let body: Buffer;
    try {
      body = await readNodeRequestBody(req, settings, EXPRESS_PARSED_HINT);
    } catch (error) {
      sendRejection(res, settings, error);
      return;
    }
    const outcome = await handleNodeWebhook(verifier, req, res, body, settings, options.secretId?.(req));
    if (outcome === undefined || outcome.kind !== 'verified') return;
    const result = outcome.result;
    releaseOnServerError(res, result);
    req.body = body;
    req.keyturn = result;
    if (res.locals !== undefined) res.locals['keyturn'] = result;
    next();
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** Set by `createExpressMiddleware` from `@keyturn/core/adapters/express`. */
    interface Request {
      /** The verified webhook's result: which key matched. */
      keyturn?: VerifyResult;
    }
  }
}
