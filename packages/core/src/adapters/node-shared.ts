/**
 * Writing answers on a `node:http` response, shared by the node and Express adapters.
 *
 * @internal
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Verifier, VerifyResult } from '../verifier.ts';
import type { NodeAdapterOptions } from './node.ts';
import { BodyTooLargeError, processWebhook, rejection, releaseOnce, report, type AdapterOptions, type WebhookOutcome } from './shared.ts';

/** Runs the shared verify-or-answer step on a Node request whose raw body is known. */
export async function handleNodeWebhook(
  verifier: Verifier,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  options: NodeAdapterOptions,
): Promise<WebhookOutcome | undefined> {
  try {
    const outcome = await processWebhook(verifier, body, req.headers, options, options.secretId?.(req));
    if (outcome.kind === 'challenge') sendJson(res, 200, JSON.stringify(outcome.response));
    return outcome;
  } catch (error) {
    sendRejection(res, options, error);
    return undefined;
  }
}

/** Writes the generic answer for a rejection or failure and reports it. */
export function sendRejection(res: ServerResponse, options: AdapterOptions, error: unknown): void {
  report(options, error);
  const { status, body } = rejection(error);
  if (error instanceof BodyTooLargeError) res.setHeader('connection', 'close');
  sendJson(res, status, body);
}

/** Writes a JSON answer (or just ends the response if headers already went out). */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}


/**
 * Releases the replay claim of `result` if the response ends with a 5xx, so the sender's retry is
 * accepted. Returns the (idempotent) release function for handlers that fail after sending.
 */
export function releaseOnServerError(res: ServerResponse, result: VerifyResult): () => Promise<void> {
  const release = releaseOnce(result);
  res.once('finish', () => {
    if (res.statusCode >= 500) void release();
  });
  return release;
}
