/**
 * Starts a real `redis-server` on 127.0.0.1 (a free port) as a child process, for tests.
 * Debian: `apt-get install -y redis-server` (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = process.env['REDIS_SERVER'] ?? 'redis-server';

/** Throws a clear message when the binary is missing. */
export function assertRedisServer(): void {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `redis-server not found (${BINARY}). Install it: apt-get update && apt-get install -y redis-server ` +
        '(.ci/run does this), or set REDIS_SERVER to the binary.',
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Sends PING with a raw socket until the server answers PONG. */
// 60 s: a restart replays the AOF, and on a loaded shared machine (load average 40+ on 2 cores) 10 s was not enough.
async function waitReady(port: number, child: ChildProcess, deadlineMs = 60_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.setTimeout(500);
      s.once('error', () => resolve(false));
      s.once('timeout', () => (s.destroy(), resolve(false)));
      s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
      // -NOAUTH: up, with --requirepass.
      s.once('data', (d) => (s.destroy(), resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()))));
    });
    if (ok) return;
    if (Date.now() - start > deadlineMs) throw new Error('redis-server did not become ready');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly pid: number | undefined;
  /** SIGKILL (no shutdown save), then start again on the same port and data dir. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Starts again after kill(). */
  start(): Promise<void>;
  /** SIGSTOP: the server stops answering (connections stay open, commands hang): "unreachable". */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops the server and removes its data dir. */
  stop(): Promise<void>;
}

/** Starts redis-server; `persistent` enables the append-only file with fsync on every write. */
export async function startRedis(options: { persistent?: boolean; port?: number; extra?: readonly string[] } = {}): Promise<RedisServer> {
  assertRedisServer();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
    '--protected-mode',
    'yes',
    ...(options.extra ?? []),
  ];
  args.push(...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const c = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child = c;
    await waitReady(port, c);
  }
  async function kill(): Promise<void> {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
  await start();
  return {
    port,
    get pid() {
      return child?.pid;
    },
    async restart({ downMs = 200 } = {}) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    kill,
    start,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async stop() {
      child?.kill('SIGCONT');
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A local Redis cluster of three masters (no replicas), started with `redis-cli --cluster create`. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/** Starts three `redis-server --cluster-enabled yes` nodes on free ports and joins them into a cluster. */
export async function startCluster(): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      nodes.push(
        await startRedis({
          port,
          extra: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'],
        }),
      );
    }
    const cli = process.env['REDIS_CLI'] ?? 'redis-cli';
    const created = spawnSync(
      cli,
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
    // Wait until every node reports the cluster ok.
    const deadline = Date.now() + 20_000;
    for (const n of nodes) {
      for (;;) {
        const info = spawnSync(cli, ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' });
        if (info.stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error('the cluster did not become ready');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  return { nodes, ports: nodes.map((n) => n.port), stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}

/**
 * A TCP proxy in front of a server, to make it unreachable for some clients only: `cut()` destroys
 * every connection and refuses new ones until `heal()`.
 */
export async function startProxy(targetPort: number): Promise<{ port: number; cut(): void; heal(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(targetPort, '127.0.0.1', () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    heal() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        open = false;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
