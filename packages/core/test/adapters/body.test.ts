// The shared body reader (size limit, read deadline, Content-Encoding) and option validation, called
// directly, the way every adapter (and the fuzzers) call it.
import { PassThrough } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExpressMiddleware } from '../../src/adapters/express.ts';
import { keyturnFastify } from '../../src/adapters/fastify.ts';
import { readRequestBody, verifyRequest, withVerification } from '../../src/adapters/fetch.ts';
import { createNodeHandler, readNodeBody, verifyNodeRequest } from '../../src/adapters/node.ts';
import {
  BodyError,
  BodyTooLargeError,
  bytesSource,
  contentCoding,
  readBody,
  resolveBodyLimits,
  type BodySource,
} from '../../src/adapters/shared.ts';
import { smartcarVerifier } from './helpers.ts';

const limits = (maxBodyBytes = 1024, bodyTimeoutMs = 10_000) => ({ maxBodyBytes, bodyTimeoutMs });

/** A source that yields `chunks`, then (unless `open`) ends; records cancellation. */
function chunks(list: Uint8Array[], open = false): BodySource & { cancelled: boolean } {
  let i = 0;
  const source = {
    cancelled: false,
    read: () => (i < list.length ? Promise.resolve(list[i++]) : open ? new Promise<undefined>(() => {}) : Promise.resolve(undefined)),
    cancel: () => void (source.cancelled = true),
  };
  return source;
}

const split = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('readBody: the shared body reader', () => {
  it('returns the bytes as sent, in any chunking, up to and including the limit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.integer({ min: 1, max: 4000 }),
        async (bytes, cuts, max) => {
          const outcome = await readBody(chunks(split(bytes, cuts)), {}, limits(max)).catch((e: unknown) => e);
          if (bytes.length <= max) expect(outcome).toEqual(bytes);
          else expect(outcome).toMatchObject({ code: 'BODY_TOO_LARGE', status: 413, limitBytes: max });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('decodes gzip and deflate in any chunking; the limit applies to the decoded bytes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom('gzip', 'x-gzip', 'deflate', 'GZip'),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 1, max: 4000 }),
        async (bytes, coding, cuts, max) => {
          const wire = new Uint8Array(coding.toLowerCase() === 'deflate' ? deflateSync(bytes) : gzipSync(bytes));
          const outcome = await readBody(chunks(split(wire, cuts)), { 'content-encoding': coding }, limits(max)).catch((e: unknown) => e);
          if (bytes.length <= max && wire.length <= max) expect(new Uint8Array(outcome as Uint8Array)).toEqual(bytes);
          else expect(outcome).toMatchObject({ code: 'BODY_TOO_LARGE', status: 413 });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('stops a gzip bomb at the limit: 16 MiB of zeros in 16 KiB is refused once maxBodyBytes came out', async () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20_000);
    const source = chunks([new Uint8Array(bomb)]);
    await expect(readBody(source, { 'content-encoding': 'gzip' }, limits(1_048_576))).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(source.cancelled).toBe(true);
  });

  it('refuses a declared Content-Length over the limit before reading anything', async () => {
    const source = chunks([new Uint8Array(10)]);
    const read = vi.spyOn(source, 'read');
    await expect(readBody(source, { 'content-length': '1025' }, limits())).rejects.toMatchObject({ code: 'BODY_TOO_LARGE' });
    expect(read).not.toHaveBeenCalled();
    expect(source.cancelled).toBe(true);
  });

  it('answers an endless body over the limit at once and cancels the source', async () => {
    const source = chunks([new Uint8Array(600), new Uint8Array(600)], true);
    await expect(readBody(source, {}, limits())).rejects.toMatchObject({ code: 'BODY_TOO_LARGE' });
    expect(source.cancelled).toBe(true);
  });

  it('BODY_TIMEOUT (408) after exactly bodyTimeoutMs, 10 s by default (fake clock)', async () => {
    vi.useFakeTimers();
    const source = chunks([new Uint8Array(1)], true);
    let settled: unknown;
    void readBody(source, {}, resolveBodyLimits({}, 'test')).then(
      (v) => (settled = v),
      (e: unknown) => (settled = e),
    );
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBeInstanceOf(BodyError);
    expect(settled).toMatchObject({ code: 'BODY_TIMEOUT', status: 408 });
    expect(source.cancelled).toBe(true);
    // A body that completes in time clears its timer.
    await readBody(bytesSource(new Uint8Array(3)), {}, limits(10, 50));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the node and fetch readers use the same deadline (fake clock, default 10 s)', async () => {
    vi.useFakeTimers();
    const stalled = Object.assign(new PassThrough(), { headers: {} });
    stalled.write('{"a":');
    const node = readNodeBody(stalled as never).catch((e: unknown) => e);
    const stream = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array(1)) });
    const fetchRead = readRequestBody(
      new Request('http://127.0.0.1/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    ).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await node).toMatchObject({ code: 'BODY_TIMEOUT', status: 408 });
    expect(await fetchRead).toMatchObject({ code: 'BODY_TIMEOUT', status: 408 });
  });

  it('the node reader settles when the client goes away, and rejects with the stream error when there is one', async () => {
    const { IncomingMessage } = await import('node:http');
    const { Socket } = await import('node:net');
    const make = () => {
      const req = new IncomingMessage(new Socket());
      req.headers = {};
      req.push(Buffer.from('{"a":'));
      return req;
    };
    // What node:http does when the client goes away mid-body: 'aborted', then destroy().
    const gone = make();
    const reading = readNodeBody(gone);
    gone.emit('aborted');
    gone.destroy();
    await expect(reading).rejects.toThrow(/aborted/);
    const failed = make();
    const error = new Error('socket hang up');
    const reading2 = readNodeBody(failed);
    failed.destroy(error);
    await expect(reading2).rejects.toBe(error);
  }, 5_000);

  it('UNSUPPORTED_CONTENT_ENCODING (415, with the fix in hint) for br, zstd, compress and stacked codings; identity passes', async () => {
    for (const coding of ['br', 'zstd', 'compress', 'gzip, gzip', 'deflate, gzip', 'aes128gcm', 'gzip;q=1']) {
      const source = chunks([new Uint8Array(1)]);
      const e = (await readBody(source, { 'content-encoding': coding }, limits()).catch((x: unknown) => x)) as BodyError;
      expect(e).toMatchObject({ code: 'UNSUPPORTED_CONTENT_ENCODING', status: 415 });
      expect(e.hint).toContain('gzip and deflate');
      expect(source.cancelled).toBe(true);
    }
    for (const coding of ['identity', '', ' identity ', 'identity, identity'])
      expect(contentCoding({ 'content-encoding': coding })).toBe('identity');
    // An attacker-chosen header value does not reach the message unless it is plain tokens.
    const e = (await readBody(chunks([]), { 'content-encoding': 'x\u001b[31m\nforged log line' }, limits()).catch(
      (x: unknown) => x,
    )) as Error;
    expect(e.message).not.toContain('forged');
  });

  it('MALFORMED_CONTENT_ENCODING (400) when the body is not what its coding says (plain JSON, truncated gzip)', async () => {
    const plain = new TextEncoder().encode('{"eventType":"VEHICLE_STATE"}');
    await expect(readBody(chunks([plain]), { 'content-encoding': 'gzip' }, limits())).rejects.toMatchObject({
      code: 'MALFORMED_CONTENT_ENCODING',
      status: 400,
    });
    const truncated = gzipSync('{"eventType":"VEHICLE_STATE","data":{}}').subarray(0, 20);
    await expect(readBody(chunks([new Uint8Array(truncated)]), { 'content-encoding': 'gzip' }, limits())).rejects.toMatchObject({
      code: 'MALFORMED_CONTENT_ENCODING',
    });
    // An empty body is empty in any coding.
    expect(await readBody(chunks([]), { 'content-encoding': 'gzip' }, limits())).toEqual(new Uint8Array(0));
  });

  it('body errors are log-safe: toJSON has code, status, hint and no body bytes', async () => {
    const e = (await readBody(chunks([new TextEncoder().encode('secret-looking body')]), {}, limits(4)).catch(
      (x: unknown) => x,
    )) as BodyError;
    expect(e.toJSON()).toEqual({
      name: 'BodyTooLargeError',
      code: 'BODY_TOO_LARGE',
      status: 413,
      message: e.message,
      hint: e.hint,
      limitBytes: 4,
    });
    expect(JSON.stringify(e)).not.toContain('secret-looking');
  });
});

describe('adapter options are validated when the adapter is created', () => {
  const bad: [string, unknown][] = [
    ['maxBodyBytes', 0],
    ['maxBodyBytes', -1],
    ['maxBodyBytes', 1.5],
    ['maxBodyBytes', Number.NaN],
    ['maxBodyBytes', Number.POSITIVE_INFINITY],
    ['maxBodyBytes', '1024'],
    ['maxBodyBytes', 2 ** 53],
    ['bodyTimeoutMs', 0],
    ['bodyTimeoutMs', -5],
    ['bodyTimeoutMs', Number.NaN],
    ['bodyTimeoutMs', Number.POSITIVE_INFINITY],
    ['bodyTimeoutMs', '10000'],
    ['bodyTimeoutMs', 2 ** 31],
    ['challengeSignature', 'maybe'],
    ['answerChallenges', 'yes'],
    ['onError', 'console'],
    ['secretId', 'tenant-a'],
  ];
  const verifier = smartcarVerifier();
  const request = () => new Request('http://127.0.0.1/', { method: 'POST', body: '{}' });

  it.each(bad)('%s = %s', async (name, value) => {
    const options = { [name]: value } as never;
    const message = new RegExp(`${name} must be`);
    expect(() => createNodeHandler(verifier, () => {}, options)).toThrow(TypeError);
    expect(() => createNodeHandler(verifier, () => {}, options)).toThrow(message);
    expect(() => createExpressMiddleware(verifier, options)).toThrow(message);
    expect(() => withVerification(verifier, () => new Response(), options)).toThrow(message);
    await expect(verifyRequest(verifier, request(), options)).rejects.toThrow(message);
    await expect(verifyNodeRequest(verifier, Object.assign(new PassThrough(), { headers: {} }) as never, options)).rejects.toThrow(message);
    const app = Fastify();
    await expect(app.register(keyturnFastify, { verifier, ...(options as object) }).ready()).rejects.toThrow(message);
    await app.close();
    if (name === 'maxBodyBytes' || name === 'bodyTimeoutMs') {
      await expect(readRequestBody(request(), options)).rejects.toThrow(message);
      await expect(readNodeBody(Object.assign(new PassThrough(), { headers: {} }) as never, options)).rejects.toThrow(message);
    }
  });

  it('accepts the boundaries: 1 byte, the largest timer delay, a fractional timeout', () => {
    expect(resolveBodyLimits({ maxBodyBytes: 1, bodyTimeoutMs: 2 ** 31 - 1 }, 't')).toEqual({
      maxBodyBytes: 1,
      bodyTimeoutMs: 2 ** 31 - 1,
    });
    expect(resolveBodyLimits({ bodyTimeoutMs: 0.5 }, 't')).toEqual({ maxBodyBytes: 1_048_576, bodyTimeoutMs: 0.5 });
  });
});
