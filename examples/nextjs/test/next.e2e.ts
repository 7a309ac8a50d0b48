// The Next.js example as it ships: `next build`, then `next start` on 127.0.0.1, then real HTTP
// requests to the App Router route handler on the Node.js and the Edge runtime and to the Pages
// Router API route. Run by .ci/run (`pnpm --filter @keyturn/example-nextjs e2e`), not by the quick
// test command: the build takes about a minute on a 2-core machine. Uses the BUILT packages (dist).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..');
const next = createRequire(join(dir, 'package.json')).resolve('next/dist/bin/next');
const AMT = randomBytes(24).toString('hex');
const OLD_AMT = randomBytes(24).toString('hex');
const env = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: '1',
  SMARTCAR_AMT: AMT,
  SMARTCAR_AMT_PREVIOUS: OLD_AMT,
  DATASPIKE_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('hex')}`,
};
const headers = (body: string, secret = AMT) => ({
  'content-type': 'application/json',
  'sc-signature': createHmac('sha256', secret).update(body).digest('hex'),
});

let server: ChildProcess | undefined;
let base = '';
let output = '';

beforeAll(async () => {
  // The build gets no secrets: route modules must not need them to load.
  const { NEXT_TELEMETRY_DISABLED, ...buildEnv } = env;
  for (const k of ['SMARTCAR_AMT', 'SMARTCAR_AMT_PREVIOUS', 'DATASPIKE_WEBHOOK_SECRET'])
    delete (buildEnv as Record<string, string | undefined>)[k];
  const build = spawnSync(process.execPath, [next, 'build'], {
    cwd: dir,
    env: { ...buildEnv, NEXT_TELEMETRY_DISABLED },
    encoding: 'utf8',
    timeout: 540_000,
  });
  if (build.status !== 0) throw new Error(`next build failed (${build.status ?? build.signal}):\n${build.stdout}\n${build.stderr}`);
  server = spawn(process.execPath, [next, 'start', '-p', '0', '-H', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`next start did not come up:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m && /Ready/.test(output)) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    server!.stdout!.on('data', onData);
    server!.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    server!.once('exit', (code) => reject(new Error(`next start exited (${code}):\n${output}`)));
  });
});

afterAll(async () => {
  if (server !== undefined && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
});

const EVENT = JSON.stringify({ eventId: 'e-next', eventType: 'VEHICLE_STATE', data: { note: 'café ✓' } });
const post = (path: string, body: string | Uint8Array, h: Record<string, string>) =>
  fetch(`${base}${path}`, { method: 'POST', body: body as BodyInit, headers: h });

describe('next build + next start', () => {
  it('builds the Edge route handler for the Edge runtime and the other one for Node.js', () => {
    const manifest = JSON.parse(readFileSync(join(dir, '.next', 'server', 'middleware-manifest.json'), 'utf8')) as {
      functions: Record<string, unknown>;
    };
    expect(Object.keys(manifest.functions)).toEqual(['/api/edge/webhooks/[provider]/route']);
  });

  it.each([
    ['App Router, Node.js runtime', '/api/webhooks/smartcar', 204],
    ['App Router, Edge runtime', '/api/edge/webhooks/smartcar', 415],
    ['Pages Router, bodyParser: false', '/api/pages-router/smartcar', 204],
  ])('%s (%s): verifies (both tokens), answers VERIFY, refuses forgeries; a gzip delivery gets %i', async (_name, path, gzipStatus) => {
    expect((await post(path, EVENT, headers(EVENT))).status).toBe(204);
    expect((await post(path, EVENT, headers(EVENT, OLD_AMT))).status).toBe(204);
    const verify = JSON.stringify({ eventType: 'VERIFY', data: { challenge: `c${path}` } });
    const answered = await post(path, verify, headers(verify));
    expect([answered.status, await answered.json()]).toEqual([
      200,
      { challenge: createHmac('sha256', AMT).update(`c${path}`).digest('hex') },
    ]);
    const forged = await post(path, EVENT, headers(EVENT, 'not-the-token'));
    expect([forged.status, await forged.json()]).toEqual([401, { error: 'invalid signature' }]);
    // The Edge Runtime has no working DecompressionStream: a compressed delivery is the sender's 415, never a 500.
    const gz = await post(path, gzipSync(EVENT), { ...headers(EVENT), 'content-encoding': 'gzip' });
    expect(gz.status).toBe(gzipStatus);
    expect(output).not.toContain(AMT);
  });

  it('answers an unknown provider with 404', async () => {
    expect((await post('/api/webhooks/stripe', EVENT, headers(EVENT))).status).toBe(404);
  });
});
