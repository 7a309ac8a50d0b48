/**
 * The rotation drill: a real redis-server, N receiver processes (node:http adapter, Redis fleet, replay
 * on), a round-robin sender that behaves like Dataspike, a local Dataspike rotate API, and the real CLI
 * (`keyturn rotate dataspike … --redis-url …`) — with a receiver killed and restarted, Redis restarted
 * and Redis unreachable, all in one run. It measures what the issue asks: deliveries accepted at once
 * or after a 503 retry, 401s (must be 0), deliveries processed twice (must be 0), the time from the
 * rotate answer until every instance holds the new key, store calls per instance, notice propagation,
 * and the fleet verdict going from "no" to "yes" — checked against the sender's ground truth.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { redisFleet } from '@keyturn/redis';
import { readiness } from '@keyturn/rotation';
import { startDataspikeTestServer } from '@keyturn/rotation/testing';
import { Redis } from 'ioredis';
import { startRedis } from '../../../packages/redis/test/redis-server.ts';
import type { DrillOptions, ReceiverConfig, StoreConfig } from './config.ts';
import { startSender, type Delivery } from './sender.ts';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** tsx's ESM loader, resolved from here (the drill may run from any working directory). */
const tsxLoader = import.meta.resolve('tsx');
const API_KEY = 'ds-drill-api-key-0123456789';
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
const INITIAL = `whsec_${'0123456789abcdef'.repeat(4)}`;
const PREFIX = 'drill:';

/** Percentiles of a list of ms. */
export interface Spread {
  readonly samples: number;
  readonly p50: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

/** What one drill run measured (written as JSON; the table is rendered from it). */
export interface DrillReport {
  readonly store: StoreConfig['kind'];
  readonly receivers: number;
  readonly rate: { readonly target: number; readonly achieved: number };
  readonly sendingMs: number;
  readonly deliveries: {
    readonly sent: number;
    readonly acceptedAtOnce: number;
    readonly acceptedAfter503: number;
    readonly acceptedAfterOtherRetry: number;
    readonly duplicateAcknowledged: number;
    readonly rejected401: number;
    readonly rejectedOther: number;
    readonly gaveUp: number;
    readonly stragglers: number;
  };
  readonly processedTwice: number;
  readonly acceptedNotProcessed: number;
  readonly rotation: {
    readonly cliExit: number | null;
    readonly cliMs: number;
    readonly activeId: string | undefined;
    /** From the rotate answer (the sender's switch) until every instance held the new key. */
    readonly allOnNewKeyMs: number | undefined;
    readonly perInstanceMs: Readonly<Record<string, number | undefined>>;
    /** 503 KEY_ROTATION_IN_PROGRESS answers seen by the receivers. */
    readonly rotationInProgress503: number;
  };
  readonly storeCalls: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly verdict: {
    readonly quietMs: number;
    readonly transitions: readonly { readonly atMs: number; readonly safe: boolean; readonly reason: string }[];
    readonly polls: number;
    readonly unreadable: number;
    /** "yes" answers while the sender's ground truth had an old-key match within the quiet period (must be 0). */
    readonly violations: number;
    readonly lastOldKeyMatchMs: number | undefined;
    readonly firstYesMs: number | undefined;
    readonly finalYesMs: number | undefined;
  };
  readonly notices: { readonly arrival: Spread; readonly reload: Spread };
  readonly faults: Readonly<Record<string, number>>;
  readonly redisMemory: Readonly<Record<string, number | undefined>>;
  readonly status: { readonly exit: number | null; readonly output: string };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? undefined : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number));
  return { samples: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) };
}

/** A line a receiver printed. */
interface Line {
  readonly at: number;
  readonly t: string;
  readonly [k: string]: unknown;
}

/** A receiver process and what it printed. */
interface ReceiverProc {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly lines: Line[];
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

function cliBin(): string {
  return join(dirname(require.resolve('@keyturn/cli/package.json')), 'dist', 'bin.js');
}

function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs one drill. */
export async function runDrill(o: DrillOptions): Promise<DrillReport> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-drill-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  try {
    const redis = await startRedis({ persistent: true });
    cleanups.push(() => redis.stop());
    const ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: INITIAL } });
    cleanups.push(() => ds.close());
    const { store, storeFlags, secretId, storeEnv, close: closeStore } = await setupStore(o.store, dir);
    cleanups.push(closeStore);
    o.log(`drill (${o.store}): redis on ${redis.port}, Dataspike API at ${ds.url}, ${o.receivers} receivers, ${o.rate}/s`);

    // The receivers.
    const receivers: ReceiverProc[] = [];
    const allLines: { name: string; line: Line }[] = [];
    const startReceiver = (name: string, port: number): ReceiverProc => {
      const config: ReceiverConfig = { name, port, redisPort: redis.port, prefix: PREFIX, secretId, store, fleet: o.fleet };
      const child = spawn(process.execPath, ['--import', tsxLoader, join(here, 'receiver.ts')], {
        cwd: join(here, '..'),
        env: { ...process.env, DRILL_RECEIVER: JSON.stringify(config) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines: Line[] = [];
      let markReady: () => void = () => undefined;
      let notReady: (err: Error) => void = () => undefined;
      const ready = new Promise<void>((resolve, reject) => {
        markReady = resolve;
        notReady = reject;
      });
      // A receiver that dies before it is ready fails the drill at once (not at the test's timeout).
      child.once('exit', (code, signal) => notReady(new Error(`receiver ${name} exited (${signal ?? code}) before it was ready`)));
      ready.catch(() => undefined); // awaited where it matters; never an unhandled rejection
      createInterface({ input: child.stdout! }).on('line', (text) => {
        let line: Line;
        try {
          line = JSON.parse(text) as Line;
        } catch {
          return;
        }
        lines.push(line);
        allLines.push({ name, line });
        if (line.t === 'ready') markReady();
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      return { name, port, child, lines, ready, exited };
    };
    const ports: number[] = [];
    for (let i = 0; i < o.receivers; i++) {
      const port = await freePort();
      ports.push(port);
      receivers.push(startReceiver(`r${i}`, port));
    }
    cleanups.push(async () => {
      for (const r of receivers) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      await Promise.race([Promise.all(receivers.map((r) => r.exited)), new Promise((res) => setTimeout(res, 5_000))]);
      for (const r of receivers) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    });
    await Promise.all(receivers.map((r) => r.ready));
    o.log('receivers ready');

    // The harness's own fleet client: the verdict and the propagation notices.
    const client = new Redis({
      host: '127.0.0.1',
      port: redis.port,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
      lazyConnect: true,
    });
    client.on('error', () => undefined);
    await client.connect();
    cleanups.push(() => client.disconnect());
    const fleet = redisFleet({ client, prefix: PREFIX, ...o.fleet });
    cleanups.push(() => fleet.close());

    // The sender: the secret Dataspike holds now, or (stragglers) the old one.
    let rotatedAt: number | undefined;
    const sender = startSender({
      ports,
      rate: o.rate,
      straggler: (elapsed) =>
        elapsed >= o.timeline.stragglersFrom && elapsed < o.timeline.stragglersTo && Math.random() < o.timeline.stragglerShare,
      sign: (body, old) => {
        const current = ds.currentSecret(WEBHOOK);
        if (rotatedAt === undefined && current !== INITIAL) rotatedAt = Date.now();
        return ds.sign(WEBHOOK, body, old ? { secret: INITIAL } : {});
      },
    });
    cleanups.push(() => sender.close());
    const t0 = Date.now();
    const at = (ms: number, fn: () => unknown): Promise<void> =>
      new Promise((resolve) => setTimeout(async () => resolve(void (await fn())), Math.max(0, t0 + ms - Date.now())));
    const faults: Record<string, number> = {};
    const mark = (name: string): void => {
      faults[name] = Date.now() - t0;
      o.log(`${(faults[name] / 1000).toFixed(1)} s: ${name}`);
    };

    // The verdict, polled all along.
    const polls: { at: number; takenAt?: number; safe?: boolean; reason?: string }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = Date.now();
        try {
          const snap = await fleet.usage(secretId);
          const v = readiness(snap, { now: Date.now(), quietMs: o.quietMs }).verdicts.find((x) => x.secretId === secretId);
          polls.push({ at: t, takenAt: snap.takenAt, safe: v?.safe ?? false, reason: v?.reason ?? 'no-data' });
        } catch {
          polls.push({ at: t });
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // The timeline.
    let cli: { code: number | null; stdout: string; stderr: string; ms: number } | undefined;
    let rotationDone: () => void = () => undefined;
    const rotated = new Promise<void>((resolve) => (rotationDone = resolve));
    let restartDone: () => void = () => undefined;
    const restarted = new Promise<void>((resolve) => (restartDone = resolve));
    const steps = [
      at(o.timeline.rotateAt, async () => {
        mark('rotate');
        const started = Date.now();
        const r = await run(
          process.execPath,
          [
            cliBin(),
            'rotate',
            'dataspike',
            '--webhook-id',
            WEBHOOK,
            ...storeFlags,
            '--secret-id',
            secretId,
            '--grace',
            '1h',
            '--base-url',
            ds.url,
            '--redis-url',
            `redis://127.0.0.1:${redis.port}`,
            '--redis-prefix',
            PREFIX,
            '--recovery-file',
            join(dir, 'recovery.secret'),
            '--json',
            '--no-progress',
          ],
          { ...process.env, ...storeEnv, DATASPIKE_API_KEY: API_KEY },
        );
        cli = { ...r, ms: Date.now() - started };
        mark(`rotate done (exit ${r.code})`);
        rotationDone();
        if (r.code !== 0) o.log(r.stderr);
      }),
      at(o.timeline.killAt, () => {
        mark('receiver r1 killed');
        receivers[1]?.child.kill('SIGKILL');
      }),
      at(o.timeline.restartAt, async () => {
        mark('receiver r1 restarted');
        const again = startReceiver('r1b', ports[1] as number);
        receivers.push(again);
        await again.ready;
      }),
      at(o.timeline.redisRestartAt, async () => {
        // The Redis faults come after the rotation (on a loaded machine the CLI can take longer than the
        // timeline allows): a Redis down while the fence is announced is another case (the CLI warns and
        // goes on without a fence; see docs/multi-instance.md, failure modes), not this drill's.
        await rotated;
        mark('redis killed');
        await redis.kill();
        await redis.start();
        mark('redis restarted');
        restartDone();
      }),
      at(o.timeline.outageAt, async () => {
        await restarted;
        mark('redis unreachable');
        redis.pause();
        await new Promise((r) => setTimeout(r, o.timeline.outageMs));
        redis.resume();
        mark('redis reachable');
      }),
      at(o.timeline.stopAt, () => {
        mark('last delivery');
        sender.stop();
      }),
    ];
    await Promise.all(steps);
    const drained = await sender.drained(60_000);
    mark(drained ? 'every delivery settled' : 'deliveries still pending');
    const sendingMs = o.timeline.stopAt;

    // Wait for the verdict to say yes (the quiet period, and any evidence gap, must pass).
    const waitEnd = Date.now() + o.verdictWaitMs;
    while (Date.now() < waitEnd && polls.at(-1)?.safe !== true) await new Promise((r) => setTimeout(r, 250));
    mark(polls.at(-1)?.safe === true ? 'verdict yes' : 'verdict still no');

    // Notice propagation: publish → each receiver's notice and its completed reload.
    const noticesFrom = Date.now();
    const published: number[] = [];
    for (let k = 0; k < o.notices; k++) {
      published.push(Date.now());
      await fleet.publishChange(secretId).catch(() => undefined);
      await new Promise((r) => setTimeout(r, o.noticeSpacingMs));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    polling = false;
    await poller;

    // `keyturn status --redis-url` (the fleet verdict and the chart).
    const status = await run(
      process.execPath,
      [
        cliBin(),
        'status',
        '--redis-url',
        `redis://127.0.0.1:${redis.port}`,
        '--redis-prefix',
        PREFIX,
        '--secret-id',
        secretId,
        '--provider',
        'dataspike',
        '--quiet',
        `${o.quietMs}ms`,
        ...storeFlags,
        '--no-progress',
      ],
      { ...process.env, ...storeEnv },
    );

    // Redis memory of what the fleet keeps (MEMORY USAGE, bytes).
    const memory = async (key: string): Promise<number | undefined> => {
      const v = await client.call('MEMORY', 'USAGE', key).catch(() => null);
      return v === null ? undefined : Number(v);
    };
    const hourKeys = (await client.keys(`${PREFIX}usage:*:m:*`)) as string[];
    const claimKeys = (await client.keys(`${PREFIX}replay:*`)) as string[];
    const claimSample = claimKeys.slice(0, 200);
    const claimBytes = (await Promise.all(claimSample.map(memory))).filter((x): x is number => x !== undefined);
    const redisMemory = {
      ledgerHash: await memory(`${PREFIX}usage:{${encodeURIComponent(secretId)}}`),
      minuteHashes: hourKeys.length,
      minuteHashBytes: (await Promise.all(hourKeys.map(memory))).reduce<number>((a, x) => a + (x ?? 0), 0),
      registry: await memory(`${PREFIX}{fleet}:instances`),
      claims: claimKeys.length,
      bytesPerClaim: claimBytes.length === 0 ? undefined : Math.round(claimBytes.reduce((a, x) => a + x, 0) / claimBytes.length),
    };

    return report(o, {
      sender: sender.deliveries,
      sendingMs,
      receivers,
      allLines,
      rotatedAt,
      t0,
      cli,
      polls,
      published,
      noticesFrom,
      faults,
      redisMemory,
      status,
    });
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
  }

  async function setupStore(kind: StoreConfig['kind'], dir: string) {
    if (kind === 'env-file') {
      const path = join(dir, 'webhooks.env');
      await writeFile(path, `# drill\nDATASPIKE_WEBHOOK_SECRET=${INITIAL}\n`, { mode: 0o600 });
      return {
        store: { kind, path } as StoreConfig,
        storeFlags: ['--store-file', path],
        secretId: 'DATASPIKE_WEBHOOK_SECRET',
        storeEnv: {},
        close: async () => undefined,
      };
    }
    if (kind === 'aws') {
      const { startSecretsManagerServer } = await import('@keyturn/store-aws/testing');
      const server = await startSecretsManagerServer();
      const secretId = 'prod/webhooks/dataspike';
      server.createSecret(secretId, INITIAL);
      const cfg = server.clientConfig() as { endpoint: string; region: string };
      return {
        store: { kind, endpoint: cfg.endpoint, region: cfg.region } as StoreConfig,
        storeFlags: ['--store', 'aws', '--aws-endpoint', cfg.endpoint, '--aws-region', cfg.region],
        secretId,
        storeEnv: { AWS_ACCESS_KEY_ID: 'drill', AWS_SECRET_ACCESS_KEY: 'drill' },
        close: () => server.close(),
      };
    }
    const { startFakeSecretManager } = await import('@keyturn/store-gcp/testing');
    const fake = await startFakeSecretManager({ projectId: 'drill-project' });
    const secretId = 'projects/drill-project/secrets/dataspike-webhook';
    fake.model.createSecret(secretId, { versionAliases: { current: 1 } });
    fake.model.addVersion(secretId, INITIAL);
    return {
      store: { kind, port: fake.grpcPort, project: 'drill-project' } as StoreConfig,
      storeFlags: ['--store', 'gcp', '--gcp-endpoint', `127.0.0.1:${fake.grpcPort}`, '--gcp-project', 'drill-project'],
      secretId,
      storeEnv: {},
      close: () => fake.close(),
    };
  }
}

interface Raw {
  sender: readonly Delivery[];
  sendingMs: number;
  receivers: readonly ReceiverProc[];
  allLines: readonly { name: string; line: Line }[];
  rotatedAt: number | undefined;
  t0: number;
  cli: { code: number | null; stdout: string; stderr: string; ms: number } | undefined;
  polls: readonly { at: number; takenAt?: number; safe?: boolean; reason?: string }[];
  published: readonly number[];
  noticesFrom: number;
  faults: Record<string, number>;
  redisMemory: Record<string, number | undefined>;
  status: { code: number | null; stdout: string; stderr: string };
}

function report(o: DrillOptions, r: Raw): DrillReport {
  const d = r.sender;
  const accepted = d.filter((x) => x.outcome === 'accepted');
  const count = (pred: (x: Delivery) => boolean) => d.filter(pred).length;

  // Processed deliveries, from every receiver's log (a killed one's lines up to its death).
  const processed = new Map<string, number>();
  for (const { line } of r.allLines)
    if (line.t === 'processed') processed.set(String(line['id']), (processed.get(String(line['id'])) ?? 0) + 1);

  let activeId: string | undefined;
  try {
    activeId = (JSON.parse(r.cli?.stdout ?? '{}') as { activeId?: string }).activeId;
  } catch {
    activeId = undefined;
  }
  // First time each instance held the new key (a load whose versions include it).
  const perInstanceMs: Record<string, number | undefined> = {};
  for (const rec of r.receivers) {
    const first = rec.lines.find(
      (l) => l.t === 'load-success' && Array.isArray(l['versions']) && (l['versions'] as string[]).includes(activeId ?? '\u0000'),
    );
    perInstanceMs[rec.name] = first === undefined || r.rotatedAt === undefined ? undefined : first.at - r.rotatedAt;
  }
  // The instances up when the rotation completed (r1b starts later with the new key; r1 may be killed first).
  const killedAt = r.faults['receiver r1 killed'];
  const doneAt = Object.entries(r.faults).find(([k]) => k.startsWith('rotate done'))?.[1];
  const atRotation = r.receivers
    .filter((x) => x.name !== 'r1b' && !(x.name === 'r1' && killedAt !== undefined && doneAt !== undefined && killedAt < doneAt))
    .map((x) => perInstanceMs[x.name]);
  const allOnNewKeyMs = atRotation.some((x) => x === undefined) ? undefined : Math.max(...(atRotation as number[]));

  const storeCalls: Record<string, Record<string, number>> = {};
  let rotation503 = 0;
  for (const rec of r.receivers) {
    const calls: Record<string, number> = {};
    for (const l of rec.lines) {
      // The propagation measurement's reloads are reported with it, not here.
      if (l.t === 'load-start' && l.at < r.noticesFrom) calls[String(l['reason'])] = (calls[String(l['reason'])] ?? 0) + 1;
      if (l.t === 'rejections') rotation503 += Number((l['codes'] as Record<string, number>)['KEY_ROTATION_IN_PROGRESS'] ?? 0);
    }
    calls['total'] = Object.values(calls).reduce((a, x) => a + x, 0);
    storeCalls[rec.name] = calls;
  }

  // The verdict against the ground truth: the old-key deliveries accepted (signed with the old secret:
  // stragglers, and anything sent before the rotate answer), each matched between its send and its answer.
  const oldAccepted = accepted.filter((x) => x.old || (r.rotatedAt !== undefined && (x.acceptedSentAt ?? 0) < r.rotatedAt));
  const lastOld = Math.max(-Infinity, ...oldAccepted.map((x) => x.acceptedSentAt ?? -Infinity));
  const transitions: { atMs: number; safe: boolean; reason: string }[] = [];
  let violations = 0;
  let last: boolean | undefined;
  let unreadable = 0;
  let firstYes: number | undefined;
  for (const p of r.polls) {
    if (p.safe === undefined) {
      unreadable++;
      continue;
    }
    // A "yes" claims the previous key did not match in the quiet period before the evidence's end
    // (`takenAt`). A violation is an old-key delivery that certainly matched inside that period: sent
    // after its start and answered before its end. (Before the rotation the old key is the active one,
    // and "no previous key" is right.)
    const afterRotation = r.rotatedAt !== undefined && p.at > r.rotatedAt;
    const end = p.takenAt ?? p.at;
    if (
      p.safe &&
      afterRotation &&
      p.reason !== 'no-previous' &&
      oldAccepted.some((x) => (x.acceptedSentAt ?? 0) > end - o.quietMs && (x.acceptedAt ?? Infinity) <= end)
    )
      violations++;
    if (p.safe && firstYes === undefined && r.rotatedAt !== undefined && p.at > r.rotatedAt) firstYes = p.at - r.t0;
    if (p.safe !== last) transitions.push({ atMs: p.at - r.t0, safe: p.safe, reason: p.reason ?? '' });
    last = p.safe;
  }
  // The start of the last run of "yes" answers (the verdict at the end of the drill).
  let finalYes: number | undefined;
  for (const p of r.polls) {
    if (p.safe === undefined) continue;
    if (p.safe && finalYes === undefined) finalYes = p.at - r.t0;
    if (!p.safe) finalYes = undefined;
  }

  // Notice propagation per receiver alive at the end: the notice's arrival and the completed reload.
  const arrival: number[] = [];
  const reload: number[] = [];
  const live = r.receivers.filter((x) => x.name !== 'r1');
  r.published.forEach((p, k) => {
    const end = r.published[k + 1] ?? Infinity;
    for (const rec of live) {
      const n = rec.lines.find((l) => l.t === 'fleet-notice' && l['notice'] === 'key-changed' && l.at >= p && l.at < end);
      const s = rec.lines.find((l) => l.t === 'load-success' && l['reason'] === 'notice' && l.at >= p && l.at < end + 1_000);
      if (n !== undefined) arrival.push(n.at - p);
      if (s !== undefined) reload.push(s.at - p);
    }
  });

  const sent = d.length;
  return {
    store: o.store,
    receivers: o.receivers,
    rate: { target: o.rate, achieved: Math.round((sent * 1000) / r.sendingMs) },
    sendingMs: r.sendingMs,
    deliveries: {
      sent,
      acceptedAtOnce: count((x) => x.outcome === 'accepted' && x.attempts === 1),
      acceptedAfter503: count((x) => x.outcome === 'accepted' && x.attempts > 1 && x.after503),
      acceptedAfterOtherRetry: count((x) => x.outcome === 'accepted' && x.attempts > 1 && !x.after503),
      duplicateAcknowledged: count((x) => x.outcome === 'duplicate'),
      rejected401: count((x) => x.outcome === 'rejected-401'),
      rejectedOther: count((x) => x.outcome === 'rejected'),
      gaveUp: count((x) => x.outcome === 'gave-up' || x.outcome === 'pending'),
      stragglers: count((x) => x.old),
    },
    processedTwice: [...processed.values()].filter((n) => n > 1).length,
    acceptedNotProcessed: accepted.filter((x) => !processed.has(x.id)).length,
    rotation: {
      cliExit: r.cli?.code ?? null,
      cliMs: r.cli?.ms ?? 0,
      activeId,
      allOnNewKeyMs,
      perInstanceMs,
      rotationInProgress503: rotation503,
    },
    storeCalls,
    verdict: {
      quietMs: o.quietMs,
      transitions,
      polls: r.polls.length,
      unreadable,
      violations,
      lastOldKeyMatchMs: Number.isFinite(lastOld) ? lastOld - r.t0 : undefined,
      firstYesMs: firstYes,
      finalYesMs: finalYes,
    },
    notices: { arrival: spread(arrival), reload: spread(reload) },
    faults: r.faults,
    redisMemory: r.redisMemory,
    status: { exit: r.status.code, output: r.status.stdout + r.status.stderr },
  };
}

/** Reads a written report back. */
export async function readReport(path: string): Promise<DrillReport> {
  return JSON.parse(await readFile(path, 'utf8')) as DrillReport;
}
